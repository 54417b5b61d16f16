"""Hubs for benchmarks.

fresh_hub(BIN, PREFIX, CONF) makes a data directory in a new temporary one and returns (tmp,
data, cli): cli(*args) runs the CLI on it and returns its output; CONF is appended to
vigil.conf. serve(BIN, DATA) runs `vigil serve` on a loopback port, waits for its "listening
on" line and returns (process, port); the process is stopped at exit. post(PORT, PATH, TOKEN,
BODY) sends BODY as JSON and returns (status, the answer's JSON or None)."""
import atexit
import json
import re
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def fresh_hub(binary, prefix, conf=""):
    tmp = tempfile.mkdtemp(prefix=prefix)
    data = tmp + "/d"

    def cli(*args):
        return subprocess.run([binary, "--data", data, *args], capture_output=True, text=True,
                              check=True).stdout.strip()

    cli("init")
    with open(data + "/vigil.conf", "a") as f:
        f.write(conf)
    return tmp, data, cli


def post(port, path, token, body, timeout=120):
    r = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                               data=json.dumps(body).encode(),
                               headers={"Authorization": "Bearer " + token,
                                        "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, None


def serve(binary, data):
    log = open(data + ".log", "w")
    proc = subprocess.Popen([binary, "--data", data, "serve", "--listen", "127.0.0.1:0"],
                            stderr=log)
    atexit.register(proc.wait)
    atexit.register(proc.terminate)  # runs first: atexit is last in, first out
    m = None
    while not m:
        if proc.poll() is not None:
            raise RuntimeError("vigil serve stopped: " + open(data + ".log").read())
        time.sleep(0.1)
        m = re.search(r"listening on http://[^:]+:(\d+)/", open(data + ".log").read())
    return proc, int(m.group(1))

"""Starts `vigil serve` for a benchmark: serve(BIN, DATA) runs it on a loopback port, waits for
its "listening on" line and returns (process, port); the process is stopped at exit."""
import atexit
import re
import subprocess
import time


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

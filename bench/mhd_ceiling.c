/* mhd_ceiling.c - the HTTP ceiling of the benchmarks (S11): the trivial answer.
 *
 * A libmicrohttpd server set up like Vigil's (src/server/http.c: internal polling thread,
 * epoll, a thread pool of the same size) that answers every request with a fixed 100-byte
 * body. What loadgen measures against it is the most this machine and this HTTP library can
 * do; Vigil's figures are printed beside it.
 *
 *   mhd_ceiling [THREADS]   prints "listening on http://127.0.0.1:PORT/" on stderr and
 *                           serves until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char body[101] =
    "{\"objects\":[],\"more\":false,\"note\":\"a fixed answer of exactly one hundred bytes..."
    "............\"}";

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *data,
                                 size_t *size, void **con_cls)
{
    struct MHD_Response *r = cls;
    if (*size) {
        *size = 0; /* bodies are read and dropped */
        return MHD_YES;
    }
    if (!*con_cls) { /* headers only: answer on the next call, as Vigil does */
        *con_cls = (void *)1;
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_OK, r);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    stop = 1;
}

int main(int argc, char **argv)
{
    unsigned threads = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 4;
    _Static_assert(sizeof body == 101, "the body is 100 bytes");
    struct MHD_Response *r = MHD_create_response_from_buffer(
        100, (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/taxii+json;version=2.1");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 1, MHD_OPTION_CONNECTION_LIMIT,
        1024u, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "mhd_ceiling: cannot start the server\n");
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(stderr, "listening on http://127.0.0.1:%u/ (%u threads)\n", di ? di->port : 0,
            threads);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    MHD_destroy_response(r);
    return 0;
}

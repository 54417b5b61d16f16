/* fuzz_config.c - libFuzzer harness for the config file parser.
 *
 * The bytes are written to a temporary file and loaded over the defaults. Either the load
 * succeeds, or it fails with a message naming the file and line; the struct stays usable
 * (config_release must free it cleanly either way).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/vigil-fuzz-conf-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    struct config c;
    char msg[CONFIG_MSG_SZ];
    config_init(&c);
    int rc = config_load(&c, path, msg);
    if (rc && (!memchr(msg, '\0', sizeof msg) || !strstr(msg, path)))
        abort(); /* every refusal names the file */
    if (c.threads < 1 || c.page_max < 1)
        abort(); /* bounds hold whatever the input */
    config_release(&c);
    unlink(path);
    return 0;
}

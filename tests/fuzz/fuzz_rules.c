/* fuzz_rules.c - libFuzzer harness for the fusion rules parser (src/fusion/rules.c).
 *
 * The bytes are parsed as a rules file. A refusal must carry a NUL-terminated "line N: ..."
 * message and leave the output untouched; an accepted set must hold what the parser promises
 * (bounded counts, named rules with a severity, alternatives with their limits), survive an
 * evaluation against a fixed report, and be freed by its last reference.
 *
 * Build with clang -fsanitize=fuzzer,address,undefined, linking the sources of src/fusion and
 * src/base/{xalloc,err,timestamp}.c with libm; run on a copy of tests/fuzz/corpus/rules.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fusion/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fusion_rules *rs = (struct fusion_rules *)(uintptr_t)0x10;
    char msg[FUSION_RULES_MSG_SZ];
    memset(msg, 'x', sizeof(msg));
    int rc = fusion_rules_parse((const char *)data, size, &rs, msg);
    if (rc) {
        if (rs != (struct fusion_rules *)(uintptr_t)0x10)
            abort(); /* output touched on error */
        if (!memchr(msg, '\0', sizeof(msg)) || strncmp(msg, "line ", 5) != 0)
            abort();
        return 0;
    }
    if (rs->n > FUSION_RULES_MAX || rs->refs != 1)
        abort();
    struct fusion_corr_params p;
    fusion_corr_params_default(&p);
    struct fusion_report r;
    memset(&r, 0, sizeof(r));
    r.seq = 1;
    memcpy(r.event, "ASSAULT", 8);
    r.future = true;
    r.lat = 31.5;
    r.lon = 34.4;
    r.reliability = 'B';
    r.credibility = 2;
    r.dist_to_line_m = 100;
    r.zone = "Gaza City";
    r.side = "east";
    const struct fusion_report *one = &r;
    for (size_t i = 0; i < rs->n; i++) {
        const struct fusion_rule *ru = &rs->rule[i];
        if (!ru->name[0] || !memchr(ru->name, '\0', sizeof(ru->name)) ||
            (unsigned)ru->severity > FUSION_SEV_CRITICAL || ru->nreq > FUSION_REQ_MAX)
            abort();
        for (size_t q = 0; q < ru->nreq; q++) {
            if (ru->req[q].nalt == 0 || ru->req[q].nalt > FUSION_ALT_MAX)
                abort();
            for (size_t a = 0; a < ru->req[q].nalt; a++)
                if (ru->req[q].alt[a].n < 1 || ru->req[q].alt[a].within_m < 0)
                    abort();
        }
        if (fusion_rules_find(rs, ru->name) != ru)
            abort();
        struct fusion_rvec sup = {0};
        fusion_rule_eval(ru, &p, &r, &one, 1, &one, 1, &sup, NULL);
        fusion_rvec_release(&sup);
    }
    fusion_rules_unref(rs);
    return 0;
}

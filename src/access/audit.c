#include "access/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/json.h"
#include "base/xalloc.h"

static void put_le64(crypto_hash_sha256_state *st, int64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)v >> (8 * i));
    crypto_hash_sha256_update(st, b, 8);
}

static void put_str(crypto_hash_sha256_state *st, const char *s)
{
    crypto_hash_sha256_update(st, (const unsigned char *)s, strlen(s) + 1);
}

static void entry_hash(const struct store_audit *e, unsigned char out[STORE_HASH_LEN])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, e->prev, STORE_HASH_LEN);
    put_le64(&st, e->seq);
    put_le64(&st, e->time);
    put_le64(&st, e->partner);
    put_le64(&st, e->user);
    put_str(&st, e->action);
    put_str(&st, e->object);
    put_str(&st, e->detail);
    crypto_hash_sha256_final(&st, out);
}

int audit_append(struct store_txn *t, int64_t partner, int64_t user, const char *action,
                 const char *object, const char *detail)
{
    struct store_audit e = {.time = ts_now(),
                            .partner = partner,
                            .user = user,
                            .action = action,
                            .object = object ? object : "",
                            .detail = detail ? detail : "{}"};
    int rc = store_audit_head(store_txn_reader(t), &e.seq, e.prev);
    if (rc)
        return rc;
    e.seq++;
    entry_hash(&e, e.hash);
    return store_txn_audit_append(t, &e);
}

void audit_list_init(struct audit_list *l)
{
    buf_init(&l->listed, BUF_NOCAP);
    l->count = 0;
    crypto_generichash_init(&l->digest, NULL, 0, AUDIT_DIGEST_LEN);
}

void audit_list_add(struct audit_list *l, const char *item)
{
    if (l->count < AUDIT_LISTED) {
        if (l->count)
            buf_addc(&l->listed, ',');
        buf_adds(&l->listed, item);
    }
    crypto_generichash_update(&l->digest, (const unsigned char *)item, strlen(item) + 1);
    l->count++;
}

char *audit_list_detail(struct audit_list *l, const char *fields)
{
    char *detail = NULL;
    if (l->count) {
        unsigned char h[AUDIT_DIGEST_LEN];
        char hex[2 * sizeof h + 1];
        crypto_generichash_final(&l->digest, h, sizeof h);
        sodium_bin2hex(hex, sizeof hex, h, sizeof h);
        detail = xasprintf("{%s%s\"count\":%zu,\"digest\":\"%s\",\"items\":[%s]}", fields,
                           fields[0] ? "," : "", l->count, hex, l->listed.data);
    }
    buf_release(&l->listed);
    return detail;
}

struct async_entry {
    int64_t partner, user;
    char *action, *object, *detail;
};

static int async_txn(struct store_txn *t, void *arg)
{
    struct async_entry *a = arg;
    return audit_append(t, a->partner, a->user, a->action, a->object, a->detail);
}

static void async_done(void *arg, int rc)
{
    struct async_entry *a = arg;
    free(a->action);
    free(a->object);
    free(a->detail);
    free(a);
}

void audit_append_async(struct store *s, int64_t partner, int64_t user, const char *action,
                        const char *object, const char *detail)
{
    struct async_entry *a = xmalloc(sizeof *a);
    *a = (struct async_entry){partner, user, xstrdup(action), xstrdup(object ? object : ""),
                              xstrdup(detail ? detail : "{}")};
    if (store_write_async(s, async_txn, a, async_done))
        async_done(a, VIGIL_ESHUTDOWN);
}

struct verify {
    int64_t seq;
    unsigned char prev[STORE_HASH_LEN];
    char *msg;
    int64_t bad;
};

static int verify_one(void *ctx, const struct store_audit *e)
{
    struct verify *v = ctx;
    unsigned char h[STORE_HASH_LEN];
    const char *why = NULL;
    if (e->seq != v->seq + 1)
        why = "entries are missing or out of order before it";
    else if (sodium_memcmp(e->prev, v->prev, STORE_HASH_LEN) != 0)
        why = "it does not chain to the entry before it";
    else {
        entry_hash(e, h);
        if (sodium_memcmp(h, e->hash, STORE_HASH_LEN) != 0)
            why = "its content does not match its hash (altered)";
    }
    if (why) {
        snprintf(v->msg, AUDIT_MSG_SZ, "audit entry %lld: %s", (long long)e->seq, why);
        v->bad = e->seq;
        return VIGIL_ECONFLICT;
    }
    v->seq = e->seq;
    memcpy(v->prev, e->hash, STORE_HASH_LEN);
    return 0;
}

int audit_verify(struct store *s, int64_t *count, char head_hex[65], char msg[AUDIT_MSG_SZ])
{
    struct verify v = {.msg = msg};
    struct store_reader *r;
    msg[0] = '\0';
    int rc = store_read_begin(s, &r);
    if (rc)
        return rc;
    rc = store_audit_scan(r, 0, 0, 0, verify_one, &v);
    store_read_end(r);
    *count = v.seq;
    sodium_bin2hex(head_hex, 65, v.prev, STORE_HASH_LEN);
    return rc;
}

static int export_one(void *ctx, const struct store_audit *e)
{
    char ts[TS_BUFSZ], hex[2 * STORE_HASH_LEN + 1];
    json_t *detail = json_loads(e->detail, 0, NULL);
    sodium_bin2hex(hex, sizeof hex, e->hash, STORE_HASH_LEN);
    json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:s, s:s, s:o, s:s}", "seq", (json_int_t)e->seq,
                          "time", ts_format(e->time, 6, ts), "partner", (json_int_t)e->partner,
                          "user", (json_int_t)e->user, "action", e->action, "object", e->object,
                          "detail", detail ? detail : json_object(), "hash", hex);
    char *line = vjson_dumps(o);
    json_decref(o);
    int rc = fprintf(ctx, "%s\n", line) < 0 ? VIGIL_EIO : 0;
    free(line);
    return rc;
}

int audit_export(struct store *s, int64_t partner, FILE *out)
{
    struct store_reader *r;
    int rc = store_read_begin(s, &r);
    if (rc)
        return rc;
    rc = store_audit_scan(r, partner, 0, 0, export_one, out);
    store_read_end(r);
    return rc;
}

/* ---- signed checkpoints ----------------------------------------------------------------- */

#define CP_MAGIC "vigil-audit-checkpoint v1"

/* Reads DIR/audit.key (the Ed25519 secret key), making it when missing and create is set. */
static int audit_key(const char *dir, bool create, unsigned char sk[crypto_sign_SECRETKEYBYTES],
                     char msg[AUDIT_MSG_SZ])
{
    char *path = xasprintf("%s/audit.key", dir);
    int rc = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        unsigned char pk[crypto_sign_PUBLICKEYBYTES];
        crypto_sign_keypair(pk, sk);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        bool ok = fd >= 0 && write(fd, sk, crypto_sign_SECRETKEYBYTES) ==
                                 (ssize_t)crypto_sign_SECRETKEYBYTES;
        ok = fd >= 0 && fsync(fd) == 0 && ok;
        if (fd >= 0)
            close(fd);
        if (!ok) {
            snprintf(msg, AUDIT_MSG_SZ, "cannot write %.200s", path);
            unlink(path);
            rc = VIGIL_EIO;
        }
    } else if (fd < 0) {
        snprintf(msg, AUDIT_MSG_SZ, "cannot read %.200s (made by vigil audit checkpoint)", path);
        rc = VIGIL_EIO;
    } else {
        ssize_t n = read(fd, sk, crypto_sign_SECRETKEYBYTES);
        close(fd);
        if (n != (ssize_t)crypto_sign_SECRETKEYBYTES) {
            snprintf(msg, AUDIT_MSG_SZ, "%.200s is not an audit key", path);
            rc = VIGIL_EIO;
        }
    }
    free(path);
    return rc;
}

int audit_checkpoint(struct store *s, const char *dir, char out[AUDIT_CHECKPOINT_SZ],
                     char msg[AUDIT_MSG_SZ])
{
    int64_t count;
    char head[65];
    int rc = audit_verify(s, &count, head, msg);
    if (rc)
        return rc;
    unsigned char sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sig[crypto_sign_BYTES];
    rc = audit_key(dir, true, sk, msg);
    if (rc)
        return rc;
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    char pkhex[2 * sizeof pk + 1], sighex[2 * sizeof sig + 1], ts[TS_BUFSZ];
    sodium_bin2hex(pkhex, sizeof pkhex, pk, sizeof pk);
    int n = snprintf(out, AUDIT_CHECKPOINT_SZ, CP_MAGIC " seq=%lld head=%s time=%s key=%s",
                     (long long)count, head, ts_format(ts_now(), 0, ts), pkhex);
    crypto_sign_detached(sig, NULL, (const unsigned char *)out, (unsigned long long)n, sk);
    sodium_memzero(sk, sizeof sk);
    sodium_bin2hex(sighex, sizeof sighex, sig, sizeof sig);
    snprintf(out + n, AUDIT_CHECKPOINT_SZ - (size_t)n, " sig=%s", sighex);
    return 0;
}

static int find_hash(void *ctx, const struct store_audit *e)
{
    memcpy(ctx, e->hash, STORE_HASH_LEN);
    return 1;
}

int audit_verify_checkpoint(struct store *s, const char *dir, const char *checkpoint,
                            int64_t *count, char head_hex[65], char msg[AUDIT_MSG_SZ])
{
    long long seq = -1;
    char head[65], ts[40], pkhex[65], sighex[129];
    int used = 0;
    size_t len = strcspn(checkpoint, "\r\n");
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES], want[STORE_HASH_LEN];
    const char *sigp = strstr(checkpoint, " sig=");
    if (sscanf(checkpoint, CP_MAGIC " seq=%lld head=%64[0-9a-f] time=%39s key=%64[0-9a-f]"
                                    " sig=%128[0-9a-f]%n",
               &seq, head, ts, pkhex, sighex, &used) != 5 ||
        (size_t)used != len || seq < 0 || !sigp || strlen(head) != 64 || strlen(pkhex) != 64 ||
        strlen(sighex) != 128 ||
        sodium_hex2bin(pk, sizeof pk, pkhex, 64, NULL, NULL, NULL) ||
        sodium_hex2bin(sig, sizeof sig, sighex, 128, NULL, NULL, NULL) ||
        sodium_hex2bin(want, sizeof want, head, 64, NULL, NULL, NULL)) {
        snprintf(msg, AUDIT_MSG_SZ, "not a checkpoint line (%s seq=... sig=...)", CP_MAGIC);
        return VIGIL_EINVAL;
    }
    if (crypto_sign_verify_detached(sig, (const unsigned char *)checkpoint,
                                    (unsigned long long)(sigp - checkpoint), pk) != 0) {
        snprintf(msg, AUDIT_MSG_SZ, "the checkpoint's signature does not verify (altered)");
        return VIGIL_ECONFLICT;
    }
    unsigned char sk[crypto_sign_SECRETKEYBYTES], own[crypto_sign_PUBLICKEYBYTES];
    int rc = audit_key(dir, false, sk, msg);
    if (rc)
        return rc;
    crypto_sign_ed25519_sk_to_pk(own, sk);
    sodium_memzero(sk, sizeof sk);
    if (sodium_memcmp(own, pk, sizeof pk) != 0) {
        snprintf(msg, AUDIT_MSG_SZ, "the checkpoint was not signed by this hub's audit key");
        return VIGIL_ECONFLICT;
    }
    rc = audit_verify(s, count, head_hex, msg);
    if (rc)
        return rc;
    if (*count < seq) {
        snprintf(msg, AUDIT_MSG_SZ, "the log ends at entry %lld, before the checkpoint's %lld "
                 "(entries removed)", (long long)*count, seq);
        return VIGIL_ECONFLICT;
    }
    unsigned char got[STORE_HASH_LEN] = {0};
    if (seq > 0) {
        struct store_reader *r;
        rc = store_read_begin(s, &r);
        if (rc)
            return rc;
        rc = store_audit_scan(r, 0, seq - 1, 1, find_hash, got);
        store_read_end(r);
        if (rc < 0)
            return rc;
    }
    if (sodium_memcmp(got, want, STORE_HASH_LEN) != 0) {
        snprintf(msg, AUDIT_MSG_SZ, "audit entry %lld differs from the checkpoint: the log up "
                 "to it was altered and re-chained", seq);
        return VIGIL_ECONFLICT;
    }
    return 0;
}

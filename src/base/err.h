/* err.h - Vigil's error codes.
 *
 * Every fallible function returns int: 0 on success, a negative VIGIL_E* code on failure.
 * There is no global error state; details for people travel in a caller-supplied message
 * buffer where an interface offers one.
 */
#ifndef VIGIL_BASE_ERR_H
#define VIGIL_BASE_ERR_H

enum {
    VIGIL_OK = 0,
    VIGIL_EINVAL = -1,     /* invalid argument or input (a message says which) */
    VIGIL_ENOENT = -2,     /* no such object, or one the caller may not read */
    VIGIL_EEXIST = -3,     /* already exists */
    VIGIL_EIO = -4,        /* operating-system or storage I/O failure */
    VIGIL_ESTORE = -5,     /* the store refused or failed */
    VIGIL_ETOOBIG = -6,    /* input over a stated limit */
    VIGIL_EPERM = -7,      /* not allowed */
    VIGIL_EAUTH = -8,      /* missing or bad credentials */
    VIGIL_ECONFLICT = -9,  /* conflicts with the current state */
    VIGIL_ESHUTDOWN = -10, /* the component is stopping */
    VIGIL_EINTERNAL = -11  /* a bug or an unexpected library failure */
};

/* Returns a static English description of an error code; never NULL. */
const char *vigil_strerror(int rc);

#endif

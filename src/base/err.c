#include "base/err.h"

const char *vigil_strerror(int rc)
{
    switch (rc) {
    case VIGIL_OK: return "success";
    case VIGIL_EINVAL: return "invalid input";
    case VIGIL_ENOENT: return "not found";
    case VIGIL_EEXIST: return "already exists";
    case VIGIL_EIO: return "input/output error";
    case VIGIL_ESTORE: return "storage error";
    case VIGIL_ETOOBIG: return "too big";
    case VIGIL_EPERM: return "not permitted";
    case VIGIL_EAUTH: return "authentication required";
    case VIGIL_ECONFLICT: return "conflict";
    case VIGIL_ESHUTDOWN: return "shutting down";
    case VIGIL_EINTERNAL: return "internal error";
    default: return "unknown error";
    }
}

/* alerts_int.h - private parts of the alert service (alerts.c, alert_why.c). */
#ifndef VIGIL_SERVICE_ALERTS_INT_H
#define VIGIL_SERVICE_ALERTS_INT_H

#include <jansson.h>

#include "fusion/fusion.h"

/* Why alert a fired, as a reader with view v sees it: {"text": what the rule or detector asks
 * for, in words; "figures": {what the view shows against it}}. Built from the rule (hub
 * configuration every reader of the alert may know) and from v alone (S3). New object. */
json_t *alert_why(const struct fusion_alert *a, const struct fusion_alert_view *v);

#endif

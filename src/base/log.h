/* log.h - leveled logging to stderr.
 *
 * One line per message: an RFC 3339 UTC time, the level, the message. Thread-safe (each line
 * is written with a single write). Never log secrets (tokens, passwords, cookies).
 */
#ifndef VIGIL_BASE_LOG_H
#define VIGIL_BASE_LOG_H

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

/* Sets the lowest level that is written (default info). */
void log_set_level(enum log_level lvl);
/* Parses "debug", "info", "warn" or "error"; returns 0 or VIGIL_EINVAL. */
int log_parse_level(const char *s, enum log_level *out);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif

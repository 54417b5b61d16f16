// What the signed-in user may do (docs/ACCESS.md: roles decide what one may do, never what one
// may read), from GET /api/v1/me. The server checks every write; the page only hides what it
// would refuse, so that nobody fills a form to be told 403.
export function abilities(me) {
  const role = (me && me.role) || '';
  const writer = !!me && !me.read_only && role !== 'reader';
  const coordinator = !!(me && me.partner && me.partner.coordinator);
  return {
    // POST /api/v1/reports: every role but reader (src/server/rest_reports.c)
    report: writer,
    // violation transitions: admins and analysts of the coordination center (compliance.c)
    review: writer && coordinator && (role === 'admin' || role === 'analyst'),
    // opinions on a violation: every role but reader
    opine: writer,
  };
}

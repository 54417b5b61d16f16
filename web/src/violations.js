// The review workflow of violations as the server has it (src/compliance/compliance.c:
// compliance_transition_allowed, and compliance_transition's one exception), in one table the
// review page offers its buttons from. The server has the last word (409 otherwise); the
// violation's JSON does not list its allowed moves, so this mirrors them (docs/COMPLIANCE.md):
//   reported ──> under_review ──> confirmed | not_confirmed | disputed;  disputed ──> under_review
// and a violation flagged needs_review (its evidence was withdrawn, no reviewer has moved it
// since) may be reopened: moved back to under_review from any other status, final ones too.
export const STATUSES = ['reported', 'under_review', 'confirmed', 'not_confirmed', 'disputed'];
export const EDGES = {
  reported: ['under_review'],
  under_review: ['confirmed', 'not_confirmed', 'disputed'],
  disputed: ['under_review'],
};

// The moves the server accepts for v: [{ to, reopen }] (reopen: the re-review exception).
export function allowedMoves(v) {
  const moves = (EDGES[v.status] || []).map((to) => ({ to, reopen: false }));
  const back = moves.some((m) => m.to === 'under_review');
  if (v.needs_review && v.status !== 'under_review' && !back) {
    moves.push({ to: 'under_review', reopen: true });
  }
  return moves;
}

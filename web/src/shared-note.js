// Counts differ between partners by design (S3): each sees what is shared with them. This
// note goes next to every count the dashboard shows.
import { h } from './dom.js';

export const SHARED_TEXT = 'Counts show what is shared with you: each partner sees only the '
  + 'reports it may read, so other partners see other numbers.';

export function sharedNote() {
  return h('span', { class: 'shared-note', title: SHARED_TEXT, tabindex: '0',
    'aria-label': SHARED_TEXT }, 'what is shared with you');
}

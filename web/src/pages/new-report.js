// New report: click the map to place it (the agreements' zones are drawn on it) or use the
// device's location, fill the form; client-side checks first, then the server's 400
// description ("field: reason") is shown next to the field it names. Times are UTC throughout:
// the start defaults to now (UTC), and what is typed is read as UTC whatever the device's zone.
// Actors and targets name who acted and on whom: compliance needs an actor naming a party of an
// agreement for a report to become a candidate violation (docs/COMPLIANCE.md).
import { get, post, ApiError } from '../api.js';
import { h, field, select, setFieldError, status, utext } from '../dom.js';
import { createMap, L } from '../map.js';
import { loadZones } from '../zones.js';
import { EVENTS, MODES, MARKINGS, RELIABILITY, CREDIBILITY } from '../plover.js';

// Which form field a server error's field path belongs to.
const FIELD_OF = {
  event: 'event', mode: 'mode', future: 'future', start: 'start', end: 'end',
  time_precision: 'start', location: 'lat', 'location.lat': 'lat', 'location.lon': 'lon',
  'location.precision_m': 'precision', lat: 'lat', lon: 'lon', precision_m: 'precision',
  reliability: 'reliability', credibility: 'credibility', marking: 'marking', group: 'group',
  title: 'title', description: 'description', source_ref: 'source_ref',
  fatalities: 'fatalities', injured: 'injured', actors: 'actors', targets: 'targets',
};

export function fieldOfError(description) {
  const m = /^([a-z_.]+)(\[\d+\])?\s*:/.exec(description || '');
  return m ? FIELD_OF[m[1]] || null : null;
}

// A datetime-local value (read as UTC) in RFC 3339.
function toUtc(v) {
  if (!v) return '';
  return v.length === 16 ? `${v}:00Z` : `${v}Z`;
}

// Now, in UTC, as a datetime-local value (YYYY-MM-DDTHH:MM): never the device's local time.
export function utcNow(d = new Date()) {
  return d.toISOString().slice(0, 16);
}

// "A forces, B militia" -> ['A forces', 'B militia'] (empty names dropped, duplicates once).
export function names(v) {
  return [...new Set(String(v || '').split(/[,;\n]/).map((x) => x.trim()).filter(Boolean))];
}

export function render(root) {
  const mapEl = h('div', { class: 'map small', id: 'form-map' });
  const partiesList = h('datalist', { id: 'party-names' });
  const f = {
    event: field('Event type (PLOVER)', select([['', '— choose —'], ...EVENTS], { name: 'event' })),
    mode: field('Mode', select([['', '— none —']], { name: 'mode' })),
    future: field('Warning of a planned event (future)', h('input', { type: 'checkbox',
      name: 'future' })),
    start: field('Start (UTC)', h('input', { type: 'datetime-local', name: 'start' }),
      { hint: 'Coordinated Universal Time (UTC), not your local time. Defaults to now.' }),
    end: field('End (UTC)', h('input', { type: 'datetime-local', name: 'end' }),
      { hint: 'UTC too. Empty: same as start.' }),
    lat: field('Latitude', h('input', { type: 'number', step: 'any', min: -90, max: 90,
      name: 'lat', inputmode: 'decimal' }), { hint: 'Click the map to place the report.' }),
    lon: field('Longitude', h('input', { type: 'number', step: 'any', min: -180, max: 180,
      name: 'lon', inputmode: 'decimal' })),
    precision: field('Precision (metres)', h('input', { type: 'number', min: 0, step: 1,
      name: 'precision_m', value: '500' })),
    reliability: field('Source reliability', select(RELIABILITY, { name: 'reliability' })),
    credibility: field('Information credibility', select(CREDIBILITY, { name: 'credibility' })),
    marking: field('Marking', select([['', 'partner default'], ...MARKINGS], { name: 'marking' })),
    group: field('Sharing group', select([['', '— none —']], { name: 'group' }),
      { hint: 'For AMBER and RED: who may read it.' }),
    title: field('Title', h('input', { name: 'title', dir: 'auto', maxlength: 500 })),
    description: field('Description', h('textarea', { name: 'description', dir: 'auto',
      rows: 4 })),
    fatalities: field('Fatalities', h('input', { type: 'number', min: 0, step: 1,
      name: 'fatalities' })),
    injured: field('Injured', h('input', { type: 'number', min: 0, step: 1, name: 'injured' })),
    actors: field('Actors (who acted)', h('input', { name: 'actors', dir: 'auto',
      list: 'party-names', autocomplete: 'off', placeholder: 'e.g. A forces' }),
    { hint: 'Names separated by commas. An actor naming a party of an agreement lets the ' +
      'report become a candidate violation.' }),
    targets: field('Targets (who or what was acted on)', h('input', { name: 'targets',
      dir: 'auto', autocomplete: 'off', placeholder: 'e.g. civilians' }),
    { hint: 'Names separated by commas. A party among the targets is never the violator.' }),
    source_ref: field('Source reference', h('input', { name: 'source_ref', dir: 'auto',
      placeholder: 'acled:PSE12345' })),
  };
  f.reliability.input.value = 'C';
  f.credibility.input.value = '3';
  f.start.input.value = utcNow();
  const clock = h('p', { class: 'hint utc-clock', 'aria-live': 'off' });
  function tick() {
    const n = new Date();
    const local = n.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    clock.textContent = `Now: ${utcNow(n).replace('T', ' ')} UTC (your device: ${local}).`;
  }
  tick();
  const timer = setInterval(tick, 30000);
  const nowBtn = h('button', { type: 'button', class: 'secondary', id: 'start-now',
    onclick: () => {
      f.start.input.value = utcNow();
      setFieldError(f.start, '');
    } }, 'Now (UTC)');
  const locMsg = h('p', { class: 'hint', id: 'locate-msg', role: 'status', 'aria-live': 'polite' });
  const locBtn = h('button', { type: 'button', class: 'secondary', id: 'locate' },
    'Use my location');
  const partyChips = h('p', { class: 'party-chips', hidden: true });
  const msg = h('div', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'report-form', novalidate: true, 'aria-label': 'New report' },
    h('fieldset', {}, h('legend', {}, 'What'), f.event.wrap, f.mode.wrap, f.future.wrap),
    h('fieldset', {}, h('legend', {}, 'Who'), f.actors.wrap, partyChips, f.targets.wrap,
      partiesList),
    h('fieldset', {}, h('legend', {}, 'When (UTC)'), clock, f.start.wrap, nowBtn, f.end.wrap),
    h('fieldset', {}, h('legend', {}, 'Where'), h('p', {}, locBtn), locMsg, f.lat.wrap,
      f.lon.wrap, f.precision.wrap),
    h('fieldset', {}, h('legend', {}, 'Grading and handling'), f.reliability.wrap,
      f.credibility.wrap, f.marking.wrap, f.group.wrap),
    h('fieldset', {}, h('legend', {}, 'Details'), f.title.wrap, f.description.wrap,
      f.fatalities.wrap, f.injured.wrap, f.source_ref.wrap),
    h('button', { type: 'submit' }, 'Submit report'), msg);
  root.append(h('h1', {}, 'New report'),
    h('div', { class: 'form-layout' }, h('div', {}, mapEl), form));

  f.event.input.addEventListener('change', () => {
    const modes = MODES[f.event.input.value] || [];
    f.mode.input.replaceChildren(h('option', { value: '' }, '— none —'),
      ...modes.map((m) => h('option', { value: m }, m)));
  });

  get('/api/v1/groups').then((r) => {
    const groups = r.groups || [];
    for (const g of groups) {
      // Names are unique per owner partner: two listed groups of one name go by marking id.
      const twice = groups.filter((o) => o.name === g.name).length > 1;
      f.group.input.append(utext('option', twice ? `${g.name} (${g.marking_id})` : g.name,
        { value: twice ? g.marking_id : g.name }));
    }
  }).catch(() => {});

  const map = createMap(mapEl, { label: 'Map: click to place the report' });
  const zoneNote = h('p', { class: 'hint', id: 'form-zones' });
  mapEl.after(zoneNote);
  // The agreements' zones, and their parties offered as actors.
  loadZones(map).then((z) => {
    // A click on a zone opens its popup (which zone, its terms) and places the report too.
    if (z.layer) z.layer.eachLayer((shape) => shape.on('click', (ev) => pick(ev)));
    zoneNote.textContent = z.count ? `${z.count} agreement zone${z.count === 1 ? '' : 's'} ` +
      'on the map: a report inside one, naming a party as actor, is checked against its terms.'
      : 'No agreement zones.';
    const parties = new Set();
    for (const ag of z.agreements || []) {
      for (const p of ag.parties || []) {
        parties.add(p.name);
        for (const a of p.aliases || []) parties.add(a);
      }
    }
    partiesList.replaceChildren(...[...parties].map((n) => utext('option', '', { value: n })));
    const main = [...new Set((z.agreements || []).flatMap((ag) => (ag.parties || [])
      .map((p) => p.name)))];
    if (main.length) {
      partyChips.hidden = false;
      partyChips.replaceChildren('Parties: ', ...main.map((n) => h('button', { type: 'button',
        class: 'chip', 'data-party': n, onclick: () => {
          const cur = names(f.actors.input.value);
          if (!cur.includes(n)) f.actors.input.value = [...cur, n].join(', ');
          setFieldError(f.actors, '');
        } }, utext('span', n), ' → actor')));
    }
  }).catch((e) => {
    zoneNote.textContent = `Could not load the agreement zones: ${e.message}`;
  });
  let pin = null;
  function place(lat, lon) {
    if (pin) pin.setLatLng([lat, lon]);
    else pin = L.marker([lat, lon], { icon: L.divIcon({ html: h('span', { class: 'pin placed' }),
      className: 'pin-wrap', iconSize: [18, 18], iconAnchor: [9, 9] }), keyboard: false,
      title: 'New report' }).addTo(map);
  }
  function pick(ev) {
    f.lat.input.value = ev.latlng.lat.toFixed(5);
    f.lon.input.value = ev.latlng.lng.toFixed(5);
    setFieldError(f.lat, '');
    setFieldError(f.lon, '');
    place(ev.latlng.lat, ev.latlng.lng);
  }
  map.on('click', pick);
  // The device's location (a browser asks the user first; refused or unavailable is said so).
  locBtn.addEventListener('click', () => {
    if (!('geolocation' in navigator)) {
      locMsg.textContent = 'Location is not available in this browser: click the map or type ' +
        'the coordinates.';
      return;
    }
    locMsg.textContent = 'Asking for your location…';
    navigator.geolocation.getCurrentPosition((pos) => {
      const { latitude: lat, longitude: lon, accuracy } = pos.coords;
      f.lat.input.value = lat.toFixed(5);
      f.lon.input.value = lon.toFixed(5);
      if (Number.isFinite(accuracy)) f.precision.input.value = String(Math.round(accuracy));
      setFieldError(f.lat, '');
      setFieldError(f.lon, '');
      place(lat, lon);
      map.setView([lat, lon], Math.max(map.getZoom(), 12));
      locMsg.textContent = `Placed at your location (±${Math.round(accuracy)} m).`;
    }, (err) => {
      const why = err && err.code === 1 ? 'permission was refused'
        : err && err.code === 3 ? 'it took too long' : 'the device could not tell';
      locMsg.textContent = `Your location is not available (${why}): click the map or type ` +
        'the coordinates.';
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
  for (const k of ['lat', 'lon']) {
    f[k].input.addEventListener('change', () => {
      const lat = parseFloat(f.lat.input.value);
      const lon = parseFloat(f.lon.input.value);
      if (Number.isFinite(lat) && Number.isFinite(lon)) place(lat, lon);
    });
  }

  function check() {
    const errs = {};
    const v = (k) => f[k].input.value.trim();
    if (!v('event')) errs.event = 'Choose an event type.';
    if (!v('start')) errs.start = 'Give the start time (UTC).';
    if (v('end') && v('start') && v('end') < v('start')) errs.end = 'End is before start.';
    const lat = parseFloat(v('lat'));
    const lon = parseFloat(v('lon'));
    if (v('lat') === '' || !Number.isFinite(lat) || lat < -90 || lat > 90) {
      errs.lat = 'Latitude from -90 to 90: click the map or type it.';
    }
    if (v('lon') === '' || !Number.isFinite(lon) || lon < -180 || lon > 180) {
      errs.lon = 'Longitude from -180 to 180.';
    }
    for (const k of ['precision', 'fatalities', 'injured']) {
      if (v(k) !== '' && !(Number.isInteger(Number(v(k))) && Number(v(k)) >= 0)) {
        errs[k] = 'A whole number, 0 or more.';
      }
    }
    // As the server: every partner reads CLEAR and GREEN, so a group narrows nothing there.
    if (v('group') && ['clear', 'green'].includes(v('marking'))) {
      errs.group = 'A sharing group is for AMBER or RED: choose no group, or another marking.';
    }
    return errs;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const k of Object.keys(f)) setFieldError(f[k], '');
    status(msg, '');
    const errs = check();
    const keys = Object.keys(errs);
    if (keys.length) {
      for (const k of keys) setFieldError(f[k], errs[k]);
      f[keys[0]].input.focus();
      status(msg, `Please correct ${keys.length} field${keys.length > 1 ? 's' : ''}.`, 'error');
      return;
    }
    const v = (k) => f[k].input.value.trim();
    const body = {
      event: v('event'),
      future: f.future.input.checked,
      start: toUtc(v('start')),
      location: { lat: Number(v('lat')), lon: Number(v('lon')) },
      reliability: v('reliability'),
      credibility: Number(v('credibility')),
    };
    if (v('mode')) body.mode = v('mode');
    if (v('end')) body.end = toUtc(v('end'));
    if (v('precision') !== '') body.location.precision_m = Number(v('precision'));
    for (const k of ['marking', 'group', 'title', 'description', 'source_ref']) {
      if (v(k)) body[k] = v(k);
    }
    for (const k of ['fatalities', 'injured']) if (v(k) !== '') body[k] = Number(v(k));
    for (const k of ['actors', 'targets']) if (names(v(k)).length) body[k] = names(v(k));
    status(msg, 'Submitting…');
    try {
      const r = await post('/api/v1/reports', body);
      status(msg, '', 'ok');
      msg.append(`Report stored (${r.id}). `,
        h('a', { href: '#/operations' }, 'See it on the map'), ' · ',
        h('a', { href: '#/reports' }, 'in the table'));
      msg.dataset.reportId = r.id;
      form.reset();
      f.reliability.input.value = 'C';
      f.credibility.input.value = '3';
      f.start.input.value = utcNow();
      if (pin) {
        pin.remove();
        pin = null;
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) {
        const k = fieldOfError(e.description);
        if (k && f[k]) {
          setFieldError(f[k], e.description);
          f[k].input.focus();
        }
        status(msg, `Not stored: ${e.description || e.title}`, 'error');
      } else {
        status(msg, `Not stored: ${e.message}`, 'error');
      }
    }
  });

  return () => {
    clearInterval(timer);
    map.remove();
  };
}

// The page: sign-in, upload with progress and live status, the galleries, a gallery's
// albums and the full-screen viewer. Everything the model wrote is set as text
// (textContent), never as HTML.
import { Momentarium, subjectOf } from '{{momentarium.js}}';

const $ = (id) => document.getElementById(id);
const signInMode = document.querySelector('meta[name="momentarium-sign-in"]').content;
const api = new Momentarium({ token: localStorage.getItem('momentarium.token') });

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  node.append(...children.filter(Boolean));
  return node;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const when = (iso) => (iso ? dateFormat.format(new Date(iso)) : '');
const localFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
/** A photo's time as the clock showed it where it was taken, when its offset is known. */
function takenAt(iso, offsetMinutes) {
  if (!iso) return '';
  if (offsetMinutes === null || offsetMinutes === undefined) return when(iso);
  const local = new Date(Date.parse(iso) + offsetMinutes * 60000);
  const sign = offsetMinutes < 0 ? '−' : '+';
  const abs = Math.abs(offsetMinutes);
  const zone = `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${localFormat.format(local)} (${zone})`;
}
const STAGES = {
  pending: 'Queued',
  preparing: 'Preparing the photos',
  asking_model: 'Asking the model',
  writing: 'Writing the albums',
  completed: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

function show(section) {
  for (const id of ['sign-in', 'home', 'gallery', 'shared']) $(id).hidden = id !== section;
}

// ---------------------------------------------------------------- sign-in
function signedIn(token) {
  api.token = token;
  localStorage.setItem('momentarium.token', token);
  route();
}

$('sign-in-dev').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('sign-in-error').textContent = '';
  try {
    signedIn((await api.signInDev($('name').value)).token);
  } catch (err) {
    $('sign-in-error').textContent = err.message;
  }
});
// Cognito's hosted UI: the authorization code with PKCE (RFC 7636), a public client, no
// secret in the page. The verifier and state wait in sessionStorage for the way back.
const authDomain = document.querySelector('meta[name="momentarium-auth-domain"]').content;
const clientId = document.querySelector('meta[name="momentarium-client-id"]').content;
const redirectUri = `${location.origin}/`;
const base64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = (n) => base64url(crypto.getRandomValues(new Uint8Array(n)));

$('sign-in-cognito').addEventListener('submit', async (e) => {
  e.preventDefault();
  const verifier = random(48);
  const state = random(16);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem('momentarium.pkce', JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri,
    scope: 'openid email profile', state, code_challenge_method: 'S256', code_challenge: challenge,
  });
  location.assign(`${authDomain}/oauth2/authorize?${query}`);
});

/** Back from the hosted UI with `?code=&state=`: the code and the verifier for tokens. */
async function finishSignIn() {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (!code && !params.get('error')) return;
  history.replaceState(null, '', location.pathname + location.hash);
  const saved = JSON.parse(sessionStorage.getItem('momentarium.pkce') || 'null');
  sessionStorage.removeItem('momentarium.pkce');
  if (params.get('error')) {
    $('sign-in-error').textContent = `Sign-in did not finish: ${params.get('error_description') || params.get('error')}`;
    return;
  }
  if (!saved || saved.state !== params.get('state')) {
    $('sign-in-error').textContent = 'Sign-in did not finish (it was not started here); try again.';
    return;
  }
  const response = await fetch(`${authDomain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', client_id: clientId, code,
      redirect_uri: redirectUri, code_verifier: saved.verifier,
    }),
  });
  const tokens = await response.json().catch(() => ({}));
  if (!response.ok || !tokens.id_token) {
    $('sign-in-error').textContent = `Sign-in did not finish: ${tokens.error || `HTTP ${response.status}`}`;
    return;
  }
  // The ID token: its audience is this client, which the API's authorizer checks.
  localStorage.setItem('momentarium.token', tokens.id_token);
  api.token = tokens.id_token;
}

$('sign-in-token').addEventListener('submit', (e) => {
  e.preventDefault();
  signedIn($('token').value.trim());
});
$('sign-out').addEventListener('click', () => {
  localStorage.removeItem('momentarium.token');
  api.token = null;
  if (signInMode === 'cognito') {
    // End the hosted UI's session too, or the next sign-in would skip the password.
    const query = new URLSearchParams({ client_id: clientId, logout_uri: redirectUri });
    location.assign(`${authDomain}/logout?${query}`);
    return;
  }
  route();
});

// ---------------------------------------------------------------- upload
let uploading = false;
let lastBatch = null;
window.addEventListener('beforeunload', (e) => {
  if (uploading) { e.preventDefault(); e.returnValue = ''; }
});

const rows = new Map();
function fileRow(file) {
  let row = rows.get(file);
  if (!row) {
    const bar = el('progress', { max: file.size || 1, value: 0, 'aria-label': `Upload of ${file.name}` });
    const note = el('span', { class: 'note' });
    row = { item: el('li', {}, el('span', { class: 'name', text: file.name }), bar, note), bar, note };
    rows.set(file, row);
    $('file-list').append(row.item);
  }
  return row;
}

async function upload(files) {
  if (uploading || files.length === 0) return;
  uploading = true;
  rows.clear();
  $('file-list').replaceChildren();
  $('progress').hidden = false;
  $('retry').hidden = true;
  $('job-status').textContent = `Uploading ${files.length} file${files.length === 1 ? '' : 's'}…`;
  const total = $('total');
  try {
    const results = await api.uploadAndProcess(files, {
      onUploadProgress: ({ file, loaded, allLoaded, allTotal }) => {
        fileRow(file).bar.value = loaded;
        total.max = allTotal || 1;
        total.value = allLoaded;
        $('total-text').textContent = `${Math.floor((100 * allLoaded) / (allTotal || 1))} %`;
      },
      onRejected: (file, reason) => {
        const row = fileRow(file);
        row.item.classList.add('rejected');
        row.note.textContent = reason;
      },
      onJob: (job) => { lastBatch = job; },
      onProcessingStatus: (status) => {
        const stage = STAGES[status.stage || status.status] || status.status;
        const attempt = status.attempts > 1 ? ` (attempt ${status.attempts})` : '';
        const fallback = status.fallbackReason ? ` — organised offline: ${status.fallbackReason}` : '';
        const error = status.error && status.status !== 'completed' ? ` — ${status.error}` : '';
        $('job-status').textContent = `${stage}${attempt}${fallback}${error}`;
      },
    });
    const failed = results.find((r) => r.status.status === 'failed');
    $('retry').hidden = !failed;
    if (results.length && !failed) {
      $('job-status').textContent = `Done: ${results.length} ${results.length === 1 ? 'gallery' : 'galleries'} organised.`;
    } else if (!results.length) {
      $('job-status').textContent = 'Nothing was organised: see the reasons beside each file.';
    }
    await loadGalleries();
  } catch (err) {
    $('job-status').textContent = `Stopped: ${err.message}`;
    $('retry').hidden = !lastBatch;
  } finally {
    uploading = false;
  }
}

$('retry').addEventListener('click', async () => {
  if (!lastBatch) return;
  $('retry').hidden = true;
  try {
    const job = await api.process(lastBatch.imageIds);
    if (!job || job.gaveUp) return;
    lastBatch = job;
    const status = await api.followJob(job.jobId, (s) => {
      $('job-status').textContent = STAGES[s.stage || s.status] || s.status;
    });
    $('retry').hidden = status.status !== 'failed';
    await loadGalleries();
  } catch (err) {
    $('job-status').textContent = `Stopped: ${err.message}`;
    $('retry').hidden = false;
  }
});

$('files').addEventListener('change', (e) => upload([...e.target.files]));

async function entries(entry) {
  if (entry.isFile) return [await new Promise((ok, no) => entry.file(ok, no))];
  if (!entry.isDirectory) return [];
  const reader = entry.createReader();
  const found = [];
  for (;;) {
    const batch = await new Promise((ok, no) => reader.readEntries(ok, no));
    if (batch.length === 0) break;
    for (const child of batch) if (!child.name.startsWith('.')) found.push(...(await entries(child)));
  }
  return found;
}

const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', async (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const items = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  const files = items.length
    ? (await Promise.all(items.map(entries))).flat()
    : [...e.dataTransfer.files];
  upload(files);
});

// ---------------------------------------------------------------- galleries
// ---------------------------------------------------------------- you
const dollars = (x) => (x >= 1 || x === 0 ? `$${x.toFixed(2)}` : `$${x.toFixed(4).replace(/0{1,2}$/, '')}`);

async function loadYou() {
  const [me, usage] = await Promise.all([api.me(), api.usage()]);
  $('display-name').value = me.displayName || '';
  if (me.displayName) $('who').textContent = me.displayName;
  $('language').value = me.language;
  const quota = (name) => usage.quotas.find((q) => q.name === name);
  const photos = quota('photos_organised_per_day');
  const pictures = quota('generations_per_day');
  const left = usage.budget.leftUsd;
  $('usage').textContent = [
    `This month: ${dollars(usage.budget.spentUsd)} of ${dollars(usage.budget.monthlyUsd)} for AI (${dollars(left)} left)`,
    `today ${photos.used} photos organised`,
    `${pictures.used} pictures made`,
    `${usage.tier} plan`,
  ].join(' · ');
  $('notices').replaceChildren(...usage.notifications.map((n) => el('li', { class: n.kind === 'budget_exhausted' ? 'error' : 'hint', text: n.message })));
}

$('you').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('display-name').value.trim();
  $('you-status').textContent = 'Saving…';
  try {
    const me = await api.updateMe({ displayName: name === '' ? null : name, language: $('language').value });
    $('you-status').textContent = `Saved. New albums will be written in ${$('language').selectedOptions[0].textContent}.`;
    if (me.displayName) $('who').textContent = me.displayName;
  } catch (err) {
    $('you-status').textContent = err.message;
  }
});

async function loadGalleries() {
  loadYou().catch((err) => { $('usage').textContent = err.message; });
  loadSearchHistory();
  const list = $('galleries');
  const { galleries } = await api.galleries();
  list.replaceChildren(...galleries.map((g) => el('li', {},
    el('a', { href: `#/g/${g.galleryId}`, text: `${when(g.createdAt)}` }),
    el('span', {
      class: `state ${g.status}`,
      text: ` · ${g.imageCount} photos · ${g.albumCount} albums · ${STAGES[g.status] || g.status}`,
    }))));
  $('galleries-empty').hidden = galleries.length > 0;
  const [withMe, links] = await Promise.all([api.sharedWithMe(), api.shares()]);
  $('with-me-panel').hidden = withMe.albums.length === 0;
  $('with-me').replaceChildren(...withMe.albums.map((a) => el('li', {},
    el('a', { href: `#/shared/${a.albumId}`, text: a.title }),
    el('span', { class: 'state', text: ` · ${a.imageCount} photos · shared ${when(a.sharedAt)}` }))));
  $('links-panel').hidden = links.shares.length === 0;
  $('links').replaceChildren(...links.shares.map((link) => {
    const revoke = el('button', { type: 'button', class: 'link', text: 'Revoke' });
    revoke.addEventListener('click', async () => {
      revoke.disabled = true;
      try { await api.revokeShare(link.shareId); await loadGalleries(); } catch (err) { revoke.disabled = false; revoke.textContent = `Revoke (${err.message})`; }
    });
    const what = link.kind === 'album' ? `Album “${link.albumTitle}”` : 'A whole gallery';
    const facts = [
      `${link.viewCount} view${link.viewCount === 1 ? '' : 's'}`,
      link.hasPassword ? 'password' : null,
      link.allowDownload ? 'downloads' : 'no downloads',
      link.showLocation ? 'locations shown' : null,
      link.expiresAt ? `until ${when(link.expiresAt)}` : null,
    ].filter(Boolean).join(' · ');
    return el('li', {}, el('a', { href: `#/g/${link.galleryId}`, text: what }), el('span', { class: 'links-meta', text: ` · ${facts} · ` }), revoke);
  }));
}

// ---------------------------------------------------------------- a gallery
let photos = [];

function size(image, longest) {
  const { width, height } = image;
  if (!width || !height) return { width: longest, height: longest };
  const scale = Math.min(1, longest / Math.max(width, height));
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}

const nearScreen = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    entry.target.src = entry.target.dataset.src;
    nearScreen.unobserve(entry.target);
  }
}, { rootMargin: '200px 0px' });

/** An album's heading, description and grid; its photos join the viewer's list. */
function albumSection(album, action) {
    const grid = el('ul', { class: 'grid' });
    for (const image of album.images) {
      const index = photos.push(image) - 1;
      const { width, height } = size(image, 360);
      // Sized before it loads (nothing jumps); its file is asked for only when it comes
      // near the screen, so the first screen loads the thumbnails it shows and no more.
      // A photo whose thumbnail is not made yet gets a placeholder, never its original.
      let img;
      if (image.thumbUrl) {
        img = el('img', { alt: image.caption || 'A photo', width, height, decoding: 'async' });
        img.dataset.src = image.thumbUrl;
        nearScreen.observe(img);
      } else {
        img = el('span', { class: 'pending-thumb', style: null, text: 'Preview on its way' });
        img.style.aspectRatio = `${width} / ${height}`;
      }
      grid.append(el('li', {},
        el('button', { type: 'button', class: 'thumb', 'aria-label': `Open: ${image.caption || 'a photo'}`, onclick: () => openViewer(index) }, img),
        image.caption ? el('p', { class: 'caption', text: image.caption }) : null,
        image.where ? el('p', { class: 'where', text: image.where }) : null,
        image.tags.length ? el('ul', { class: 'tags' }, ...image.tags.map((t) => el('li', { text: t }))) : null));
    }
    if (album.title === null) return el('section', { class: 'album' }, grid); // the page's heading names it
    return el('section', { class: 'album', 'aria-labelledby': `album-${album.albumId}` },
      el('div', { class: 'heading' }, el('h2', { id: `album-${album.albumId}`, text: album.title }), action || null),
      album.description ? el('p', { class: 'description', text: album.description }) : null,
      grid);
}

async function loadGallery(id) {
  const g = await api.gallery(id);
  $('gallery-title').textContent = `Gallery of ${when(g.createdAt)}`;
  $('share-gallery').onclick = () => openShare({ kind: 'gallery', id, label: `The whole gallery of ${when(g.createdAt)}` });
  photos = [];
  nearScreen.disconnect();
  const albums = g.albums.map((album) => albumSection(album, el('button', {
    type: 'button', class: 'secondary', text: 'Share album', 'aria-label': `Share album ${album.title}`,
    onclick: () => openShare({ kind: 'album', id: album.albumId, label: `The album “${album.title}”` }),
  })));
  $('albums').replaceChildren(...albums);
  if (g.status !== 'completed') {
    const note = el('p', { class: 'status', role: 'status', text: `This gallery is ${(STAGES[g.status] || g.status).toLowerCase()}.` });
    $('albums').append(note);
    const status = await api.jobStatus(g.jobId);
    if (status.error) note.textContent += ` ${status.error}`;
    if (status.status === 'failed' || status.status === 'cancelled') {
      // Try again: the same photos as a new job, followed live; then its gallery.
      const retry = el('button', { type: 'button', text: 'Try again' });
      retry.addEventListener('click', async () => {
        retry.disabled = true;
        try {
          const job = await api.process(status.imageIds);
          if (!job || job.gaveUp) throw new Error('none of these photos can be organised any more');
          const done = await api.followJob(job.jobId, (s) => { note.textContent = STAGES[s.stage || s.status] || s.status; });
          if (done.status === 'completed') location.hash = `#/g/${job.galleryId}`;
          else { note.textContent = done.error || 'It failed again.'; retry.disabled = false; }
        } catch (err) {
          note.textContent = `Stopped: ${err.message}`;
          retry.disabled = false;
        }
      });
      $('albums').append(retry);
    }
  }
}

// ---------------------------------------------------------------- the viewer
const viewer = $('viewer');
let current = 0;

async function openViewer(index) {
  current = (index + photos.length) % photos.length;
  const image = photos[current];
  const img = $('viewer-image');
  // A photo without renditions: its original, or (a share without downloads) nothing.
  img.hidden = !(image.previewUrl || image.url);
  if (!img.hidden) img.src = image.previewUrl || image.url;
  img.alt = image.caption || 'A photo';
  $('viewer-caption').textContent = image.caption || '';
  $('viewer-tags').replaceChildren(...image.tags.map((t) => el('li', { text: t })));
  $('viewer-original').hidden = !image.url;
  if (image.url) $('viewer-original').href = image.url;
  $('viewer-original').textContent = sharedDownloads === 'preview' ? 'Open the 1,600 px copy' : 'Open the original';
  $('viewer-position').textContent = `${current + 1} / ${photos.length}`;
  const facts = $('viewer-facts');
  facts.replaceChildren();
  const add = (term, value) => value && facts.append(el('dt', { text: term }), el('dd', { text: value }));
  if (!viewer.open) viewer.showModal();
  if (sharedView) {
    // A share's photos carry what the share reveals; nothing more is asked for.
    add('Taken', takenAt(image.takenAt, image.takenAtOffsetMinutes));
    add('Place', image.location ? `${image.location.latitude.toFixed(4)}°, ${image.location.longitude.toFixed(4)}°` : null);
    add('Camera', image.camera);
    return;
  }
  try {
    const d = await api.image(image.imageId);
    if (photos[current] !== image) return;
    add('Taken', takenAt(d.takenAt, d.offsetMinutes));
    const coordinates = d.latitude != null ? `${d.latitude.toFixed(4)}°, ${d.longitude.toFixed(4)}°` : null;
    add('Place', d.place ? [placeLabel(d.place), coordinates].filter(Boolean).join(' · ') : coordinates);
    add('Camera', [d.cameraMake, d.cameraModel].filter(Boolean).join(' '));
  } catch { /* the facts are extra */ }
}

$('viewer-prev').addEventListener('click', () => openViewer(current - 1));
$('viewer-next').addEventListener('click', () => openViewer(current + 1));
$('viewer-close').addEventListener('click', () => viewer.close());
viewer.addEventListener('keydown', (e) => {
  if (e.key === 'ArrowLeft') { e.preventDefault(); openViewer(current - 1); }
  if (e.key === 'ArrowRight') { e.preventDefault(); openViewer(current + 1); }
});
let touchX = null;
viewer.addEventListener('pointerdown', (e) => { touchX = e.clientX; });
viewer.addEventListener('pointerup', (e) => {
  if (touchX === null) return;
  const dx = e.clientX - touchX;
  touchX = null;
  if (Math.abs(dx) > 50) openViewer(current + (dx < 0 ? 1 : -1));
});

// ---------------------------------------------------------------- search
const regionNames = typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(undefined, { type: 'region' }) : null;
const countryName = (code) => { try { return (regionNames && regionNames.of(code)) || code; } catch { return code; } };
/** "Cascais, Portugal"; the country alone when no town is near. */
function placeLabel(place) {
  return [place.name, countryName(place.countryCode)].filter(Boolean).join(', ');
}
const PARTS = { morning: 'in the morning', afternoon: 'in the afternoon', evening: 'in the evening', night: 'at night' };
const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
const day = (iso) => dayFormat.format(new Date(`${iso}T00:00:00Z`));
let searchState = null;

/** The filters a search was read as, each a chip that searches again without it. */
function renderChips(understood) {
  const chips = [];
  const chip = (label, without) => el('li', {}, el('button', {
    type: 'button', 'aria-label': `Remove: ${label}`, text: `${label} ✕`,
    onclick: () => runSearch(without()),
  }));
  const rest = (drop) => {
    const u = { ...understood, ...drop };
    const words = [u.text, u.partOfDay ? PARTS[u.partOfDay] : ''].filter(Boolean).join(' ');
    return {
      q: words, from: u.from, to: u.to, album: u.album,
      place: u.place ? (u.place.name || u.place.countryCode) : null,
    };
  };
  if (understood.from || understood.to) {
    const label = understood.from === understood.to ? day(understood.from)
      : [understood.from && `from ${day(understood.from)}`, understood.to && `to ${day(understood.to)}`].filter(Boolean).join(' ');
    chips.push(chip(label, () => rest({ from: null, to: null })));
  }
  if (understood.partOfDay) chips.push(chip(PARTS[understood.partOfDay], () => rest({ partOfDay: null })));
  if (understood.place) {
    const p = understood.place;
    chips.push(chip(`in ${p.name || countryName(p.countryCode)}`, () => rest({ place: null })));
  }
  if (understood.album) chips.push(chip('in one album', () => rest({ album: null })));
  $('search-chips').replaceChildren(...chips);
}

async function runSearch(params, more = false) {
  const status = $('search-status');
  if (!more) {
    searchState = { params, results: [] };
    $('search-q').value = params.q || '';
  }
  status.textContent = 'Searching…';
  try {
    // The person's own date, for "today", "yesterday" and "this weekend".
    const now = new Date();
    const today = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
    const r = await api.search({ ...searchState.params, today, limit: 30, cursor: more ? searchState.next : null });
    searchState.next = r.nextCursor;
    searchState.results.push(...r.results);
    renderChips(r.understood);
    const how = r.mode === 'hybrid' ? 'by words and meaning'
      : r.mode === 'similar' ? 'by likeness'
        : r.modeReason ? `by words only (${r.modeReason})` : 'by words and filters';
    status.textContent = r.total === 0 ? `Nothing found ${how}.`
      : `${r.total === 1 ? '1 photo' : `${r.total} photos`} found ${how}.`;
    photos = [];
    nearScreen.disconnect();
    const images = searchState.results.map((hit) => ({
      ...hit,
      where: [hit.place ? placeLabel(hit.place) : null, takenAt(hit.takenAt, hit.offsetMinutes), hit.albumTitle].filter(Boolean).join(' · '),
    }));
    $('search-results').replaceChildren(albumSection({ title: null, images }));
    $('search-more').hidden = !r.nextCursor;
    loadSearchHistory();
  } catch (err) {
    status.textContent = err.message;
  }
}

async function loadSearchHistory() {
  try {
    const { searches } = await api.searchHistory();
    $('search-history').replaceChildren(...searches.map((s) => el('option', { value: s.query, label: `${s.resultCount} found` })));
    $('search-forget').hidden = searches.length === 0;
  } catch { /* the history is extra */ }
}

$('search').addEventListener('submit', (e) => {
  e.preventDefault();
  runSearch({ q: $('search-q').value.trim() });
});
$('search-more').addEventListener('click', () => runSearch(searchState.params, true));
$('search-forget').addEventListener('click', async () => {
  try {
    await api.forgetSearches();
    $('search-history').replaceChildren();
    $('search-forget').hidden = true;
    $('search-status').textContent = 'Your searches are forgotten.';
  } catch (err) {
    $('search-status').textContent = err.message;
  }
});

// ---------------------------------------------------------------- sharing
let shareTarget = null;
const shareDialog = $('share-dialog');

async function showMembers() {
  const { members } = await api.members(shareTarget.id);
  $('member-list').replaceChildren(...members.map((m) => {
    const remove = el('button', { type: 'button', class: 'link', text: 'Remove', 'aria-label': `Stop sharing with ${m.subject}` });
    remove.addEventListener('click', async () => {
      try { await api.removeMember(shareTarget.id, m.subject); await showMembers(); } catch (err) { $('share-error').textContent = err.message; }
    });
    return el('li', {}, el('span', { text: `${m.subject} (${m.role}) · ` }), remove);
  }));
}

function openShare(target) {
  shareTarget = target;
  $('share-dialog-title').textContent = target.kind === 'album' ? 'Share this album' : 'Share this gallery';
  $('share-what').textContent = target.label;
  $('share-result').hidden = true;
  $('share-error').textContent = '';
  $('share-create').disabled = false;
  $('share-members').hidden = target.kind !== 'album';
  $('member-list').replaceChildren();
  shareDialog.showModal();
  if (target.kind === 'album') showMembers().catch((err) => { $('share-error').textContent = err.message; });
}

$('share-form').addEventListener('submit', async (e) => {
  if (e.submitter?.value !== 'create') return; // Close
  e.preventDefault();
  $('share-error').textContent = '';
  const expiry = $('share-expiry').value;
  const options = {
    allowDownload: $('share-download').checked,
    showLocation: $('share-location').checked,
    ...(expiry ? { expiresAt: new Date(`${expiry}T23:59:59`).toISOString() } : {}),
    ...($('share-secret').value ? { password: $('share-secret').value } : {}),
  };
  $('share-create').disabled = true;
  try {
    const link = shareTarget.kind === 'album'
      ? await api.shareAlbum(shareTarget.id, options)
      : await api.shareGallery(shareTarget.id, options);
    $('share-url').value = link.url;
    $('share-result').hidden = false;
    $('share-url').select();
  } catch (err) {
    $('share-error').textContent = err.message;
  } finally {
    $('share-create').disabled = false;
  }
});
$('share-copy').addEventListener('click', async () => {
  try { await navigator.clipboard.writeText($('share-url').value); $('share-copy').textContent = 'Copied'; } catch { $('share-url').select(); }
});
$('member-add').addEventListener('click', async () => {
  const subject = $('member-subject').value.trim();
  if (!subject) return;
  $('share-error').textContent = '';
  try { await api.addMember(shareTarget.id, subject); $('member-subject').value = ''; await showMembers(); } catch (err) { $('share-error').textContent = err.message; }
});

/** The photos a share shows: albums as in a gallery, and the viewer over them. */
let sharedView = false;
let sharedDownloads = null;
function renderShared(view) {
  sharedView = true;
  sharedDownloads = view.downloads;
  photos = [];
  nearScreen.disconnect();
  const count = view.albums.reduce((n, a) => n + a.imageCount, 0);
  $('shared-title').textContent = view.kind === 'album' && view.albums[0] ? view.albums[0].title : 'Shared photos';
  const only = view.kind === 'album' ? view.albums[0] : null;
  $('shared-note').textContent = [
    only && only.description ? only.description : `${count} photo${count === 1 ? '' : 's'}`,
    { original: 'the original files can be downloaded', preview: 'photos can be downloaded at 1,600 px' }[view.downloads] || null,
    view.expiresAt ? `this link works until ${when(view.expiresAt)}` : null,
  ].filter(Boolean).join(' · ');
  $('shared-albums').replaceChildren(...view.albums.map((album) => albumSection(
    view.kind === 'album' ? { ...album, title: null } : album,
  )));
}

/** The token of a `/s/{token}` address (a malformed escape is left as it is: the API says 404). */
function linkToken() {
  const raw = location.pathname.slice(3);
  try { return decodeURIComponent(raw); } catch { return raw; }
}

/** `/s/{token}`: a share link's page, for anyone, signed in or not. */
async function openSharedLink(token, password) {
  show('shared');
  $('shared-error').textContent = '';
  try {
    renderShared(await api.shared(token, password));
    $('shared-password').hidden = true;
  } catch (err) {
    $('shared-albums').replaceChildren();
    if (err.code === 'password_required' || err.code === 'wrong_password') {
      $('shared-password').hidden = false;
      $('share-password').focus();
      if (err.code === 'wrong_password') $('shared-error').textContent = 'That password is not right.';
    } else if (err.status === 404) {
      $('shared-password').hidden = true;
      $('shared-title').textContent = 'This link does not work';
      $('shared-note').textContent = 'It may have expired or been revoked; ask the person who sent it for a new one.';
    } else {
      $('shared-error').textContent = err.message;
    }
  }
}
$('shared-password').addEventListener('submit', (e) => {
  e.preventDefault();
  openSharedLink(linkToken(), $('share-password').value);
});

// ---------------------------------------------------------------- routing
async function route() {
  const who = $('who');
  sharedView = false;
  sharedDownloads = null;
  if (location.pathname.startsWith('/s/')) {
    who.hidden = true;
    $('sign-out').hidden = true;
    return openSharedLink(linkToken());
  }
  if (!api.token) {
    show('sign-in');
    $('sign-in-dev').hidden = signInMode !== 'dev';
    $('sign-in-cognito').hidden = signInMode !== 'cognito';
    $('sign-in-token').hidden = signInMode !== 'token';
    who.hidden = true;
    $('sign-out').hidden = true;
    return;
  }
  who.hidden = false;
  who.textContent = subjectOf(api.token) || '';
  $('sign-out').hidden = false;
  const match = location.hash.match(/^#\/g\/([0-9a-f-]{36})$/);
  const withMe = location.hash.match(/^#\/shared\/([0-9a-f-]{36})$/);
  try {
    if (match) {
      show('gallery');
      await loadGallery(match[1]);
    } else if (withMe) {
      show('shared');
      $('shared-password').hidden = true;
      $('shared-error').textContent = '';
      renderShared(await api.sharedAlbum(withMe[1]));
    } else {
      show('home');
      await loadGalleries();
    }
  } catch (err) {
    if (err.status === 401) {
      localStorage.removeItem('momentarium.token');
      api.token = null;
      $('sign-in-error').textContent = 'Your sign-in has expired; sign in again.';
      return route();
    }
    show('home');
    $('galleries-empty').hidden = false;
    $('galleries-empty').textContent = err.message;
  }
}

// A link's page has no hash routes: a changed hash there must not fetch it again.
window.addEventListener('hashchange', () => { if (!location.pathname.startsWith('/s/')) route(); });
finishSignIn()
  .catch((err) => { $('sign-in-error').textContent = `Sign-in did not finish: ${err.message}`; })
  .finally(route);

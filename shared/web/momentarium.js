// Momentarium's browser client: the HTTP API, uploads straight to storage with byte
// progress, and a job's live status. The page uses it; so can any other front end:
//
//   import { Momentarium } from '/assets/momentarium.<hash>.js';
//   const m = new Momentarium({ token });
//   const jobs = await m.uploadAndProcess(files, {
//     onUploadProgress: ({ file, loaded, total, allLoaded, allTotal }) => …,
//     onProcessingStatus: (status) => …,      // each event of /api/jobs/{id}/events
//     onRejected: (file, reason) => …,        // a file the API or storage refused, and why
//   });

export const ALLOWED_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/heif'];
export const MAX_BYTES = 25 * 1024 * 1024;
export const BATCH = 50;
export const PARALLEL_UPLOADS = 4;

/** An error answered by the API: `status`, and its `code`, `message` and `details`. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const FINISHED = new Set(['completed', 'failed', 'cancelled']);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The type the API expects for a file: the browser's, or from the name for HEIC/HEIF. */
export function contentTypeOf(file) {
  const type = (file.type || '').toLowerCase();
  if (type === 'image/jpg') return 'image/jpeg';
  if (type) return type;
  const ext = file.name.split('.').pop().toLowerCase();
  return { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', heic: 'image/heic', heif: 'image/heif' }[ext] || '';
}

/** Why the API would refuse `file`, or null. */
export function refusal(file) {
  const type = contentTypeOf(file);
  if (!ALLOWED_TYPES.includes(type)) return `not a JPEG, PNG, WebP or HEIC photo (${type || 'unknown type'})`;
  if (file.size === 0) return 'the file is empty';
  if (file.size > MAX_BYTES) return `larger than ${MAX_BYTES / 1024 / 1024} MiB`;
  return null;
}

/** A gap between two photos' times that starts a new outing (the CLI's rule). */
export const OUTING_GAP_MS = 3 * 3600 * 1000;

/**
 * Cuts files into batches of at most `size` where the outings change, as `organize` does:
 * files in time order (the file's time, which a browser can read without opening it),
 * a new outing after a gap of over 3 hours, whole outings packed into batches, and an
 * outing larger than a batch cut within itself.
 */
export function planBatches(files, size = BATCH) {
  const sorted = [...files].sort((a, b) => a.lastModified - b.lastModified || a.name.localeCompare(b.name));
  const outings = [];
  for (const file of sorted) {
    const last = outings[outings.length - 1];
    if (last && file.lastModified - last[last.length - 1].lastModified <= OUTING_GAP_MS) last.push(file);
    else outings.push([file]);
  }
  const batches = [];
  let current = [];
  for (const outing of outings) {
    if (outing.length > size) {
      if (current.length) batches.push(current);
      current = [];
      for (let i = 0; i < outing.length; i += size) batches.push(outing.slice(i, i + size));
      continue;
    }
    if (current.length + outing.length > size) {
      batches.push(current);
      current = [];
    }
    current.push(...outing);
  }
  if (current.length) batches.push(current);
  return batches;
}

/** The `sub` of a JWT, read without checking it (the server checks it). */
export function subjectOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload)).sub || null;
  } catch { return null; }
}

async function sha256(file) {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export class Momentarium {
  constructor({ base = '', token = null, storage = globalThis.localStorage } = {}) {
    this.base = base.replace(/\/$/, '');
    this.token = token;
    this.storage = storage;
  }

  async request(method, path, body, headers = {}, { anonymous = false } = {}) {
    const response = await fetch(this.base + path, {
      method,
      headers: {
        ...(this.token && !anonymous ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!response.ok) {
      const e = (json && json.error) || {};
      throw new ApiError(response.status, e.code || 'unknown', e.message || `HTTP ${response.status}`, e.details);
    }
    return json;
  }

  /** A dev token for `name` (only where the server has dev sign-in on). */
  signInDev(name) { return this.request('POST', '/api/dev/sign-in', { name }); }
  galleries(cursor) { return this.request('GET', `/api/galleries?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`); }
  gallery(id) { return this.request('GET', `/api/galleries/${encodeURIComponent(id)}`); }
  image(id) { return this.request('GET', `/api/images/${encodeURIComponent(id)}`); }
  jobStatus(id) { return this.request('GET', `/api/jobs/${encodeURIComponent(id)}/status`); }

  /**
   * A share link to a gallery or an album: `{ expiresAt?, password?, allowDownload?,
   * showLocation? }` → the link, with its `url` (shown this once: only a hash is kept).
   */
  shareGallery(id, options = {}) { return this.request('POST', `/api/galleries/${encodeURIComponent(id)}/shares`, options); }
  shareAlbum(id, options = {}) { return this.request('POST', `/api/albums/${encodeURIComponent(id)}/shares`, options); }
  shares() { return this.request('GET', '/api/shares?limit=100'); }
  revokeShare(id) { return this.request('DELETE', `/api/shares/${encodeURIComponent(id)}`); }
  /** What a link shares; no sign-in. A password goes percent-encoded, so any fits a header. */
  shared(token, password) {
    const headers = password ? { 'share-password': encodeURIComponent(password) } : {};
    // A link is opened as nobody, whoever is signed in.
    return this.request('GET', `/api/shared/${encodeURIComponent(token)}`, undefined, headers, { anonymous: true });
  }
  addMember(albumId, subject) { return this.request('POST', `/api/albums/${encodeURIComponent(albumId)}/members`, { subject }); }
  members(albumId) { return this.request('GET', `/api/albums/${encodeURIComponent(albumId)}/members`); }
  removeMember(albumId, subject) { return this.request('DELETE', `/api/albums/${encodeURIComponent(albumId)}/members/${encodeURIComponent(subject)}`); }
  sharedWithMe() { return this.request('GET', '/api/shared-with-me?limit=100'); }
  me() { return this.request('GET', '/api/me'); }
  updateMe(change) { return this.request('PATCH', '/api/me', change); }
  usage() { return this.request('GET', '/api/usage'); }
  /** `params`: q, from, to, place, album, similarTo, limit, cursor (empty ones left out). */
  search(params) {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''));
    return this.request('GET', `/api/search?${query}`);
  }
  searchHistory() { return this.request('GET', '/api/search/history'); }
  forgetSearches() { return this.request('DELETE', '/api/search/history'); }
  sharedAlbum(albumId) { return this.request('GET', `/api/shared-with-me/${encodeURIComponent(albumId)}`); }

  /**
   * Follows a job through its server-sent events until it is completed, failed or
   * cancelled, calling `onStatus` with each state. Where the server cannot stream (behind
   * API Gateway) each response carries one state and `retry:`, and the stream is reopened
   * after it: polling with the same code.
   */
  async followJob(jobId, onStatus = () => {}, { signal } = {}) {
    let reopenAfter = 2500;
    let backoff = 1000;
    for (;;) {
      let response;
      try {
        response = await fetch(`${this.base}/api/jobs/${encodeURIComponent(jobId)}/events`, {
          headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
          signal,
        });
      } catch (err) {
        if (signal && signal.aborted) throw err;
        await sleep(backoff); // the network: try again, more slowly each time
        backoff = Math.min(backoff * 2, 30000);
        continue;
      }
      if (response.status === 429 || response.status >= 500) {
        const wait = Number(response.headers.get('retry-after')) * 1000 || backoff;
        await sleep(wait);
        backoff = Math.min(backoff * 2, 30000);
        continue;
      }
      if (!response.ok) {
        const e = (await response.json().catch(() => ({}))).error || {};
        throw new ApiError(response.status, e.code || 'unknown', e.message || `HTTP ${response.status}`, e.details);
      }
      backoff = 1000;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ done: true }));
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            else if (line.startsWith('retry:')) reopenAfter = Number(line.slice(6)) || reopenAfter;
          }
          if (event !== 'status' || data.length === 0) continue;
          const status = JSON.parse(data.join('\n'));
          onStatus(status);
          if (FINISHED.has(status.status)) {
            reader.cancel().catch(() => {});
            return status;
          }
        }
      }
      await sleep(reopenAfter);
    }
  }

  /** Where this user's uploads are remembered in this browser. */
  get knownKey() { return `momentarium.uploaded.${subjectOf(this.token || '') || 'anonymous'}`; }

  /** Content hashes this user already uploaded from this browser, hash → imageId. */
  known() {
    try { return JSON.parse(this.storage.getItem(this.knownKey) || '{}'); } catch { return {}; }
  }

  remember(hash, imageId) {
    const known = this.known();
    known[hash] = imageId;
    this.storage.setItem(this.knownKey, JSON.stringify(known));
  }

  forget(imageIds) {
    const known = this.known();
    for (const [hash, id] of Object.entries(known)) if (imageIds.includes(id)) delete known[hash];
    this.storage.setItem(this.knownKey, JSON.stringify(known));
  }

  /** PUTs one file to its presigned URL with exactly the headers it was signed for. */
  put(ticket, file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', ticket.url);
      for (const [name, value] of Object.entries(ticket.headers || {})) {
        // The browser sets Content-Length itself from the body.
        if (name.toLowerCase() !== 'content-length') xhr.setRequestHeader(name, value);
      }
      xhr.upload.onprogress = (e) => onProgress(e.loaded);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) return resolve();
        const e = new Error(`the storage refused it (HTTP ${xhr.status})`);
        e.status = xhr.status;
        reject(e);
      };
      xhr.onerror = () => reject(new Error('the upload was interrupted'));
      xhr.send(file);
    });
  }

  /**
   * Uploads `files` (photos already uploaded from this browser are not sent again) in
   * batches of at most 50 cut where the outings change, four PUTs at a time, asks for each batch to be organised and follows
   * its job. Resolves with one `{jobId, galleryId, imageIds, status}` per batch.
   */
  async uploadAndProcess(files, { onUploadProgress = () => {}, onProcessingStatus = () => {}, onRejected = () => {}, onJob = () => {} } = {}) {
    const accepted = [];
    for (const file of files) {
      const why = refusal(file);
      if (why) onRejected(file, why); else accepted.push(file);
    }
    const loaded = new Map(accepted.map((f) => [f, 0]));
    const allTotal = accepted.reduce((n, f) => n + f.size, 0);
    const report = (file) => onUploadProgress({
      file, loaded: loaded.get(file), total: file.size,
      allLoaded: [...loaded.values()].reduce((a, b) => a + b, 0), allTotal,
    });
    const known = this.known();
    const results = [];
    for (const batch of planBatches(accepted)) {
      // One file at a time: a batch of 50 large photos read at once would not fit a phone.
      const hashes = [];
      for (const file of batch) hashes.push(await sha256(file));
      const ids = new Map();
      const fresh = [];
      batch.forEach((file, i) => {
        if (known[hashes[i]]) {
          ids.set(file, known[hashes[i]]);
          loaded.set(file, file.size);
          report(file);
        } else {
          fresh.push([file, hashes[i]]);
        }
      });
      if (fresh.length) {
        let tickets;
        try {
          tickets = (await this.request('POST', '/api/uploads/generate-urls', {
            files: fresh.map(([f]) => ({ filename: f.name, contentType: contentTypeOf(f), size: f.size })),
          })).uploads;
        } catch (e) {
          for (const [f] of fresh) onRejected(f, e.message);
          continue;
        }
        let next = 0;
        const worker = async () => {
          while (next < fresh.length) {
            const i = next++;
            const [file, hash] = fresh[i];
            const progress = (bytes) => { loaded.set(file, bytes); report(file); };
            try {
              let ticket = tickets[i];
              try {
                await this.put(ticket, file, progress);
              } catch (e) {
                // Upload URLs live five minutes: one that ran out while earlier files were
                // sent is asked for again, once.
                if (e.status !== 403 || Date.parse(ticket.expiresAt) > Date.now()) throw e;
                [ticket] = (await this.request('POST', '/api/uploads/generate-urls', {
                  files: [{ filename: file.name, contentType: contentTypeOf(file), size: file.size }],
                })).uploads;
                await this.put(ticket, file, progress);
              }
              loaded.set(file, file.size);
              report(file);
              ids.set(file, ticket.imageId);
              this.remember(hash, ticket.imageId);
            } catch (e) {
              onRejected(file, e.message);
            }
          }
        };
        await Promise.all(Array.from({ length: PARALLEL_UPLOADS }, worker));
      }
      let imageIds = batch.filter((f) => ids.has(f)).map((f) => ids.get(f));
      if (imageIds.length === 0) continue;
      const result = await this.process(imageIds, batch, ids, onRejected);
      if (!result) continue; // every photo was refused, each with its reason
      if (result.gaveUp) {
        // Never confirmed as uploaded: say so beside each, and send them again next time.
        for (const f of batch.filter((f) => result.imageIds.includes(ids.get(f)))) {
          onRejected(f, 'the upload was not confirmed in time; try again');
        }
        this.forget(result.imageIds);
        continue;
      }
      onJob(result);
      result.status = await this.followJob(result.jobId, onProcessingStatus);
      results.push(result);
    }
    return results;
  }

  /**
   * Asks for `imageIds` to be organised, leaving out photos the server rejected: the job,
   * `{gaveUp, imageIds}` when their uploads were never confirmed, or null when every photo
   * was refused.
   */
  async process(imageIds, batch = [], ids = new Map(), onRejected = () => {}) {
    for (let attempt = 0; attempt < 30 && imageIds.length; attempt++) {
      try {
        const accepted = await this.request('POST', '/api/galleries/process', { imageIds });
        return { jobId: accepted.jobId, galleryId: accepted.galleryId, imageIds };
      } catch (e) {
        if (e.code === 'images_rejected') {
          const rejected = (e.details && e.details.rejected) || [];
          for (const r of rejected) {
            const file = batch.find((f) => ids.get(f) === r.imageId);
            if (file) onRejected(file, r.reason);
          }
          const gone = rejected.map((r) => r.imageId);
          this.forget(gone);
          imageIds = imageIds.filter((id) => !gone.includes(id));
        } else if (e.code === 'upload_incomplete') {
          await sleep(500); // the storage's event has not been handled yet
        } else if (e.status === 404) {
          // A photo this browser remembers was deleted: upload the batch again next time.
          this.forget(imageIds);
          throw e;
        } else {
          throw e;
        }
      }
    }
    return imageIds.length ? { gaveUp: true, imageIds } : null;
  }
}

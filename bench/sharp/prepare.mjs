// The same preparation as Momentarium's, done with sharp (libvips): orient per EXIF,
// fit inside 768×768 with Lanczos3 (libvips shrinks JPEGs on load, as we do), JPEG q80.
//
//   node prepare.mjs FOLDER one     ms per photo on one core (min/median/max), photos/s
//   node prepare.mjs FOLDER renditions   the same for 1600 + 768 + 360 px from one pipeline
//   node prepare.mjs FOLDER all     photos/s on all cores
//   node prepare.mjs FOLDER batch   peak RSS of a 50-photo batch, 4 at a time
// Prints one JSON line.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";

const [dir, mode] = process.argv.slice(2);
const ROUNDS = 5;
const names = fs.readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort();
const prep = (buf) =>
  sharp(buf)
    .rotate()
    .resize(768, 768, { fit: "inside", withoutEnlargement: true, kernel: "lanczos3" })
    .jpeg({ quality: 80 })
    .toBuffer();

// Momentarium's renditions: 1600, 768 and 360 px, all three from one decoded pipeline.
const renditions = async (buf) => {
  const base = sharp(buf).rotate();
  return Promise.all(
    [1600, 768, 360].map((edge) =>
      base
        .clone()
        .resize(edge, edge, { fit: "inside", withoutEnlargement: true, kernel: "lanczos3" })
        .jpeg({ quality: 80 })
        .toBuffer(),
    ),
  );
};

sharp.cache(false);
// ms per photo on one core: every photo ROUNDS times, one at a time.
const perPhoto = async (run) => {
  sharp.concurrency(1);
  const files = names.map((n) => fs.readFileSync(path.join(dir, n)));
  const times = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const buf of files) {
      const t = process.hrtime.bigint();
      await run(buf);
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(JSON.stringify({ min: times[0], median, max: times.at(-1), perSecond: 1000 / median }));
};

if (mode === "renditions") {
  await perPhoto(renditions);
} else if (mode === "one") {
  await perPhoto(prep);
} else if (mode === "all") {
  const cores = os.availableParallelism();
  const files = names.map((n) => fs.readFileSync(path.join(dir, n)));
  const total = files.length * ROUNDS;
  let next = 0;
  const t = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (next < total) await prep(files[next++ % files.length]);
    }),
  );
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(JSON.stringify({ cores, perSecond: total / secs }));
} else if (mode === "batch") {
  const before = process.resourceUsage().maxRSS;
  const out = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < 50) {
        const i = next++;
        const buf = await fs.promises.readFile(path.join(dir, names[i % names.length]));
        out.push((await prep(buf)).length);
      }
    }),
  );
  const sent = out.reduce((a, b) => a + b, 0);
  console.log(JSON.stringify({ baselineKiB: before, peakKiB: process.resourceUsage().maxRSS, sentBytes: sent }));
} else {
  console.error("mode: one | all | batch");
  process.exit(2);
}

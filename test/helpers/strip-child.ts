// Run as a child process by the stripping bounds test, so that what it measures is the stripper's
// alone: strips the file `input` (of `format`) into `output` as an upload is stripped, read 64 KiB
// at a time as a request arrives, then prints the time taken and the process's peak RSS as JSON.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { stripInto } from './stripped.js';

const [input, format, output] = process.argv.slice(2);
if (input === undefined || format === undefined || output === undefined) throw new Error('usage: strip-child <input> <format> <output>');
const started = performance.now();
const spooled = await stripInto(createReadStream(input, { highWaterMark: 64 * 1024 }), output, format);
const seconds = (performance.now() - started) / 1000;
const peakRss = Number(/VmHWM:\s*(\d+) kB/.exec(await readFile('/proc/self/status', 'utf8'))?.[1]) * 1024;
process.stdout.write(JSON.stringify({ seconds, peakRss, spooled }));

// Writes a file whole: to a name of this process, then renamed over the target, so a reader (two
// clusters side by side, a rerun after a crash) never sees half a file.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function writeWhole(file: string, data: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, data);
  await rename(partial, file);
}

// File-system failures (full disk, read-only mount, permissions, a file where a folder should be)
// are the operator's to fix, not kubebake bugs: they become diagnostics naming the path and the
// cause in words, with exit 1, never "internal error".
import { DiagnosticError, type Diagnostic } from './diagnostic.js';
import { EXIT } from './exit.js';

const CAUSES: Record<string, [cause: string, hint: string]> = {
  ENOSPC: ['no space left on the device', 'free space on that file system (or choose another output folder with -o), then run the same command again'],
  EDQUOT: ['the disk quota is exhausted', 'free space within your quota, then run the same command again'],
  EROFS: ['the file system is read-only', 'choose an output folder on a writable file system with -o'],
  EACCES: ['permission denied', 'check the owner and mode of the folder, or choose another output folder with -o'],
  EPERM: ['operation not permitted', 'check the owner, mode and attributes (chattr) of the path, or choose another output folder with -o'],
  ENOTDIR: ['a part of the path is a file, not a folder', 'move that file away, or choose another output folder with -o'],
  EISDIR: ['it is a folder, not a file', 'move that folder away; kubebake writes a file there'],
  ELOOP: ['it is a symbolic link', 'kubebake never writes through links inside its output; remove the link'],
  EEXIST: ['something appeared there while kubebake was writing', 'make sure nothing else writes into the output folder, then run again'],
  ENAMETOOLONG: ['the path is too long for the file system', 'choose a shorter output folder with -o'],
  EMFILE: ['too many open files', 'raise the open-file limit (ulimit -n), then run again'],
  EIO: ['an input/output error from the device', 'check the disk (dmesg), then run again'],
};

/** A diagnostic for a failed file operation on `path`; `doing` says what kubebake was doing ("cannot write"). */
export function ioDiagnostic(path: string, error: unknown, doing = 'cannot write'): Diagnostic {
  const code = (error as NodeJS.ErrnoException)?.code ?? '';
  const [cause, hint] = CAUSES[code] ?? [code ? `${code.toLowerCase()}` : String((error as Error)?.message ?? error), 'check the path and run again'];
  return { severity: 'error', code: `io.${code ? code.toLowerCase() : 'failed'}`, path: [], file: path, message: `${doing} ${path}: ${cause}`, hint };
}

/** A failed file operation on `path` as the error it is thrown as (see diagnostic.ts: the one channel). */
export const pathError = (path: string, error: unknown, doing = 'cannot write'): DiagnosticError => new DiagnosticError([ioDiagnostic(path, error, doing)], EXIT.invalid, { cause: error });

export const isErrno = (e: unknown): e is NodeJS.ErrnoException => typeof (e as NodeJS.ErrnoException)?.code === 'string';

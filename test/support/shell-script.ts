/**
 * Runs a bash script as a reader's terminal would (`set -euo pipefail` added, so the first failing command fails it),
 * in its own process group so that what it leaves running in the background (a webhook receiver) ends with it.
 */
import { spawn } from 'node:child_process';

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `script` with bash in `cwd` with `env`, for at most `timeoutMs`. */
export function runShellScript(script: string, cwd: string, env: Record<string, string>, timeoutMs: number): Promise<ScriptResult> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `set -euo pipefail\n${script}`], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killGroup = (): void => {
      try {
        process.kill(-(child.pid ?? 0), 'SIGTERM');
      } catch {
        // the group has already ended
      }
    };
    const timer = setTimeout(() => {
      stderr += `\n(timed out after ${timeoutMs} ms)`;
      killGroup();
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      // Give what the script started in the background a moment to flush, then end it.
      setTimeout(() => {
        killGroup();
        resolve({ code, stdout, stderr });
      }, 500);
    });
  });
}

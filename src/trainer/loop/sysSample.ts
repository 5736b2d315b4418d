/**
 * The trainer process' resources, for the `sys` field of each train event (SysSample,
 * src/protocol/runFolder.ts): CPU time used since the previous sample over the wall time between them, in
 * % of one core (process.cpuUsage counts every thread of the process, the data-parallel workers included,
 * so 4 busy threads read 400), and the resident set size in MiB. Cheap: two system calls per sample.
 */
import type { SysSample } from '../../protocol/runFolder';

const round1 = (x: number) => Math.round(x * 10) / 10;

export class SysSampler {
  private cpu = process.cpuUsage();
  private at = performance.now();

  /** Since the previous sample (or the sampler's creation). */
  sample(): SysSample {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const usedMs = (cpu.user - this.cpu.user + cpu.system - this.cpu.system) / 1000;
    const wallMs = now - this.at;
    this.cpu = cpu;
    this.at = now;
    return { cpu: wallMs > 0 ? round1((100 * usedMs) / wallMs) : 0, rssMB: round1(process.memoryUsage.rss() / 2 ** 20) };
  }
}

/**
 * A share as a percentage in text that sets it beside a target ("94.6 % of full (below 95 %)"). Pure.
 * Whole percent where that reads on the right side of the target, else as many decimals as it takes (up
 * to 3, then cut toward the side it is on): a share below 95 % never reads "95 %" next to "below 95 %".
 */
export function percentBeside(ratio: number, target: number, reaches = ratio * 100 >= target): string {
  const x = ratio * 100;
  for (let decimals = 0; decimals <= 3; decimals++) {
    const s = x.toFixed(decimals);
    if (Number(s) >= target === reaches) return s;
  }
  const cut = reaches ? Math.ceil(x * 1000) / 1000 : Math.floor(x * 1000) / 1000;
  return cut.toFixed(3);
}

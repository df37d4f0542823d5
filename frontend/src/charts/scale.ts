/** Axis arithmetic for the charts: "nice" ticks and linear scales, kept apart from drawing. */

/** Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(low: number, high: number, count = 5): number[] {
  if (!Number.isFinite(low) || !Number.isFinite(high)) return [];
  if (high === low) return [low];
  const raw = (high - low) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let value = Math.ceil(low / step) * step; value <= high + step * 1e-9; value += step) {
    ticks.push(Number(value.toPrecision(12)));
  }
  return ticks;
}

/** A linear map from [d0, d1] to [r0, r1]; a zero-width domain maps to the range's middle. */
export function linear(d0: number, d1: number, r0: number, r1: number): (value: number) => number {
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (value) => r0 + ((value - d0) / (d1 - d0)) * (r1 - r0);
}

/** Numbers stay numbers; dates and times (ISO text) become milliseconds. */
export function toNumber(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const number = Number(value);
    if (!Number.isNaN(number)) return number;
    // The API's times carry no zone and are UTC: say so, or the browser reads them as local.
    return Date.parse(/T[\d:.]+$/.test(value) ? `${value}Z` : value);
  }
  return Number.NaN;
}

export function formatTick(value: number, time: boolean, span: number): string {
  if (time) {
    const date = new Date(value);
    return span < 2 * 86_400_000 ? date.toISOString().slice(11, 16) : date.toISOString().slice(0, 10);
  }
  const abs = Math.abs(value);
  if (abs >= 1e6 || (abs > 0 && abs < 1e-3)) return value.toExponential(1);
  return value.toLocaleString("en-US", { maximumFractionDigits: 3 });
}

import { describe, expect, it } from "vitest";
import { formatTick, linear, niceTicks, toNumber } from "./scale";

describe("chart scales", () => {
  it("picks round ticks inside the range", () => {
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0.13, 0.92, 4)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(-7, 7, 3)).toEqual([-5, 0, 5]);
    expect(niceTicks(3, 3)).toEqual([3]);
    expect(niceTicks(Number.NaN, 1)).toEqual([]);
  });

  it("maps linearly, and a flat domain to the middle", () => {
    expect(linear(0, 10, 100, 200)(5)).toBe(150);
    expect(linear(0, 10, 200, 100)(10)).toBe(100);
    expect(linear(4, 4, 0, 10)(4)).toBe(5);
  });

  it("reads ISO times as milliseconds and labels them by the span", () => {
    const t = toNumber("2025-03-01T12:30:00Z");
    expect(t).toBe(Date.UTC(2025, 2, 1, 12, 30));
    expect(toNumber("2025-03-01T12:30:00")).toBe(t);
    expect(formatTick(t, true, 3_600_000)).toBe("12:30");
    expect(formatTick(t, true, 30 * 86_400_000)).toBe("2025-03-01");
    expect(formatTick(2500000, false, 1)).toBe("2.5e+6");
    expect(formatTick(1234.5, false, 1)).toBe("1,234.5");
  });
});

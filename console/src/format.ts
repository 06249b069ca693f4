// Times in Asia/Shanghai, durations in Chinese, percentages.

import { serverNow } from "./api";

const dateTime = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return dateTime.format(t).replace(/\//g, "-");
}

export function span(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return `${days}天${hours}小时`;
  if (hours > 0) return `${hours}小时${mins}分`;
  return `${mins}分钟`;
}

/** "剩余 …" or "已超期 …" against the stack's clock. */
export function countdown(due: string, now = serverNow()): { text: string; overdue: boolean } {
  const left = Date.parse(due) - now;
  return left >= 0 ? { text: `剩余 ${span(left)}`, overdue: false } : { text: `已超期 ${span(left)}`, overdue: true };
}

export function percent(value: number | null | undefined): string {
  if (value === null || value === undefined) return "暂无";
  return `${(value * 100).toFixed(1)}%`;
}

export function ymd(t: number): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: "Asia/Shanghai",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(t);
  return parts; // en-CA formats as YYYY-MM-DD
}

/** Characters as the API counts them: NFC, invisible format characters dropped, trimmed; by code point. */
export function visibleLength(text: string): number {
  let s = text;
  try {
    s = s.normalize("NFC");
  } catch {
    // very old engines: count as typed
  }
  return Array.from(s.replace(/\p{Cf}/gu, "").trim()).length;
}

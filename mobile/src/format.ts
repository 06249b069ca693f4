// Times in Asia/Shanghai (the city's clock, whatever the phone's zone), phone numbers masked.

const dateTime = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return dateTime.format(t).replace(/\//g, "-");
}

/** "13800138000", "+86 138-0013-8000" → "13800138000"; anything else comes back as typed (trimmed). */
export function normalPhone(value: string): string {
  const digits = value.replace(/[\s-]/g, "");
  const m = /^(?:\+?86)?(1\d{10})$/.exec(digits);
  return m ? m[1] : value.trim();
}

export function isMobile(value: string): boolean {
  return /^1[3-9]\d{9}$/.test(normalPhone(value));
}

export function masked(phone: string): string {
  const p = normalPhone(phone);
  return /^\d{11}$/.test(p) ? `${p.slice(0, 3)}****${p.slice(7)}` : p;
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

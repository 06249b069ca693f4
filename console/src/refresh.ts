// Re-render the current view after an action changed a petition (set by main.ts).
let again: () => void = () => undefined;

export function onRefresh(fn: () => void): void {
  again = fn;
}

export function refresh(): void {
  again();
}

// Things a view must undo when the next one replaces it (charts hold resize observers).
const leaving: (() => void)[] = [];

export function onLeave(fn: () => void): void {
  leaving.push(fn);
}

export function leave(): void {
  while (leaving.length) leaving.pop()!();
}

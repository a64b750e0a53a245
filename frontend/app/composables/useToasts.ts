export interface Toast {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: string;
  link?: { to: string; label: string };
}

let nextId = 1;

export function useToasts() {
  const toasts = useState<Toast[]>('toasts', () => []);
  function push(t: Omit<Toast, 'id'>, ttlMs = 6000) {
    const id = nextId++;
    toasts.value = [...toasts.value, { ...t, id }].slice(-4);
    if (import.meta.client) setTimeout(() => dismiss(id), ttlMs);
  }
  function dismiss(id: number) {
    toasts.value = toasts.value.filter((t) => t.id !== id);
  }
  return { toasts, push, dismiss };
}

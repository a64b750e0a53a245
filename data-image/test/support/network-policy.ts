/**
 * Kubernetes NetworkPolicy semantics (networking.k8s.io/v1), enough to ask "can pod A open a TCP connection
 * to pod B on port P?" of a set of rendered policies: a pod selected by no policy of a direction is open in
 * that direction; once selected, only what some rule of some selecting policy allows is let through, and a
 * connection needs both the source's egress and the destination's ingress.
 */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}
interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PortRule {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
export interface NetworkPolicy {
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector: LabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: { from?: Peer[]; ports?: PortRule[] }[];
    egress?: { to?: Peer[]; ports?: PortRule[] }[];
  };
}
export interface Pod {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ip: string;
}

export function selectorMatches(sel: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const ok =
      e.operator === 'In'
        ? has && (e.values ?? []).includes(labels[e.key])
        : e.operator === 'NotIn'
          ? !has || !(e.values ?? []).includes(labels[e.key])
          : e.operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

function ipv4(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = Number(bits);
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return (ipv4(ip) & mask) === (ipv4(base) & mask);
}

/** Namespaces carry the label the API server sets on every namespace. */
const namespaceLabels = (ns: string) => ({ 'kubernetes.io/metadata.name': ns });

function peerMatches(peer: Peer, pod: Pod, policyNamespace: string): boolean {
  if (peer.ipBlock) {
    return inCidr(pod.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(pod.ip, c));
  }
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, namespaceLabels(pod.namespace))
    : pod.namespace === policyNamespace;
  return nsOk && selectorMatches(peer.podSelector, pod.labels);
}

const peersMatch = (peers: Peer[] | undefined, pod: Pod, ns: string) =>
  !peers || peers.length === 0 || peers.some((p) => peerMatches(p, pod, ns));

const portsMatch = (ports: PortRule[] | undefined, port: number) =>
  !ports ||
  ports.length === 0 ||
  ports.some(
    (p) =>
      (p.protocol ?? 'TCP') === 'TCP' &&
      (p.port === undefined ||
        (p.endPort ? Number(p.port) <= port && port <= p.endPort : Number(p.port) === port)),
  );

const typesOf = (p: NetworkPolicy) =>
  p.spec.policyTypes ?? (p.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);

export function selecting(policies: NetworkPolicy[], pod: Pod, type: 'Ingress' | 'Egress'): NetworkPolicy[] {
  return policies.filter(
    (p) =>
      (p.metadata.namespace ?? pod.namespace) === pod.namespace &&
      typesOf(p).includes(type) &&
      selectorMatches(p.spec.podSelector, pod.labels),
  );
}

/** Whether `from`'s egress policies let it open the connection (the source side alone). */
export function egressAllows(policies: NetworkPolicy[], from: Pod, to: Pod, port: number): boolean {
  const egress = selecting(policies, from, 'Egress');
  return (
    egress.length === 0 ||
    egress.some((p) =>
      (p.spec.egress ?? []).some((r) => peersMatch(r.to, to, from.namespace) && portsMatch(r.ports, port)),
    )
  );
}

/** Whether `to`'s ingress policies admit the connection (the destination side alone). */
export function ingressAllows(policies: NetworkPolicy[], from: Pod, to: Pod, port: number): boolean {
  const ingress = selecting(policies, to, 'Ingress');
  return (
    ingress.length === 0 ||
    ingress.some((p) =>
      (p.spec.ingress ?? []).some((r) => peersMatch(r.from, from, to.namespace) && portsMatch(r.ports, port)),
    )
  );
}

export function canConnect(policies: NetworkPolicy[], from: Pod, to: Pod, port: number): boolean {
  return egressAllows(policies, from, to, port) && ingressAllows(policies, from, to, port);
}

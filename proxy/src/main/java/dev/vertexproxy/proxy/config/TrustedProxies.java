package dev.vertexproxy.proxy.config;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code listen.trusted_proxies}: the peers whose forwarded headers the proxy believes, as IPv4/IPv6 CIDR blocks or
 * single addresses. Only literals: a host name would make trust depend on DNS at load time, so it is refused, as is a
 * prefix out of range or a block with host bits set ({@code 10.0.0.1/8} — the operator meant something, and guessing
 * which would silently widen or narrow the set). An IPv4-mapped IPv6 address ({@code ::ffff:10.0.0.1}) is the IPv4
 * address. Immutable and thread-safe.
 */
public final class TrustedProxies {
  private static final TrustedProxies NONE = new TrustedProxies(List.of());

  private final List<Block> blocks;

  private record Block(byte[] network, int prefix) {
    boolean contains(byte[] a) {
      if (a.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (a[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (a[full] & mask) == (network[full] & mask);
    }
  }

  private TrustedProxies(List<Block> blocks) {
    this.blocks = List.copyOf(blocks);
  }

  /** The empty set: forwarded headers are never believed (the default). */
  public static TrustedProxies none() {
    return NONE;
  }

  /**
   * Parses entries such as {@code 10.0.0.0/8}, {@code 2001:db8::/32}, {@code 203.0.113.7}.
   *
   * @throws IllegalArgumentException naming the first entry that is not a literal address or a well-formed block
   */
  public static TrustedProxies of(List<String> entries) {
    List<Block> blocks = new ArrayList<>();
    for (String e : entries) {
      blocks.add(block(e));
    }
    return new TrustedProxies(blocks);
  }

  /** The problem with one entry, in the "expected: …" form config errors use, or {@code null} when it is well formed. */
  public static String problem(String entry) {
    try {
      block(entry);
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  private static Block block(String entry) {
    String s = entry.trim();
    int slash = s.indexOf('/');
    String addr = slash < 0 ? s : s.substring(0, slash);
    byte[] a = literal(addr);
    if (a == null) {
      throw new IllegalArgumentException("an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8 or 2001:db8::/32 (no host"
          + " names)");
    }
    int max = a.length * 8;
    int prefix = max;
    if (slash >= 0) {
      String p = s.substring(slash + 1);
      if (!p.matches("[0-9]{1,3}") || Integer.parseInt(p) > max) {
        throw new IllegalArgumentException("a prefix length 0.." + max + " after the /");
      }
      prefix = Integer.parseInt(p);
    }
    Block b = new Block(a, prefix);
    byte[] masked = a.clone();
    for (int bit = prefix; bit < max; bit++) {
      masked[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
    }
    if (!Arrays.equals(masked, a)) {
      throw new IllegalArgumentException("a block without host bits, e.g. " + address(masked) + "/" + prefix);
    }
    return b;
  }

  /**
   * The bytes of an IP literal — 4 for IPv4 (also when written IPv4-mapped), 16 for IPv6 — or {@code null} when {@code s}
   * is anything else (a name, a zone id, an IPv4 address with leading zeros). Never resolves anything.
   */
  public static byte[] literal(String s) {
    if (s.isEmpty() || s.length() > 45 || s.indexOf('%') >= 0) {
      return null;
    }
    if (s.indexOf(':') < 0) {
      return ipv4(s);
    }
    byte[] b = NetUtil.createByteArrayFromIpAddressString(s);
    if (b == null || b.length != 16) {
      return null;
    }
    boolean mapped = b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    for (int i = 0; i < 10 && mapped; i++) {
      mapped = b[i] == 0;
    }
    return mapped ? Arrays.copyOfRange(b, 12, 16) : b;
  }

  private static byte[] ipv4(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    byte[] b = new byte[4];
    for (int i = 0; i < 4; i++) {
      String p = parts[i];
      if (!p.matches("0|[1-9][0-9]{0,2}") || Integer.parseInt(p) > 255) {
        return null;
      }
      b[i] = (byte) Integer.parseInt(p);
    }
    return b;
  }

  /** Whether the address (4 or 16 bytes, as {@link #literal} gives them) is in one of the blocks. */
  public boolean contains(byte[] address) {
    for (Block b : blocks) {
      if (b.contains(address)) {
        return true;
      }
    }
    return false;
  }

  public boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    return contains(a.length == 16 ? normalize(a) : a);
  }

  public boolean isEmpty() {
    return blocks.isEmpty();
  }

  /** Whether a block is a whole address family ({@code 0.0.0.0/0}, {@code ::/0}): then any peer can name any client. */
  public boolean trustsAnyPeer() {
    return blocks.stream().anyMatch(b -> b.prefix() == 0);
  }

  /** The blocks as {@code [10.0.0.0/8, 2001:db8:0:0:0:0:0:0/32]}, for the start-up log. */
  @Override
  public String toString() {
    return blocks.stream().map(b -> address(b.network()) + "/" + b.prefix()).toList().toString();
  }

  private static byte[] normalize(byte[] a) {
    byte[] n = literal(address(a));
    return n == null ? a : n;
  }

  /** The textual form the audit record uses for an address ({@link InetAddress#getHostAddress}). */
  public static String address(byte[] a) {
    try {
      return InetAddress.getByAddress(a).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an address: " + a.length + " bytes", e);
    }
  }
}

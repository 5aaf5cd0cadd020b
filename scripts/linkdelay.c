/* linkdelay.c: the links of scripts/cluster-up.sh when LINK_DELAY is set: a user-space Ethernet
 * switch for kernels without netem. For each node network namespace named on the command line it
 * creates a tap device eth0 and forwards frames among them as a learning switch; a frame leaves
 * its sender's link and then its receiver's link each after the link's serialization time at the
 * rate and the link's one-way delay (node to node: two links, as through cluster-up's bridge).
 * It is a model of a switched network, not an emulator of one: FIFO links; a sender's link
 * holds at most 1 ms of traffic and then reads no more from the sender's tap until it drains (the
 * sender's kernel queues and TCP's small-queue limit hold the rest, as with a real NIC); a
 * receiver's link drops frames beyond 10 ms of queue (a switch port's buffer); no other loss, no
 * jitter besides the host's own scheduling (it asks for SCHED_FIFO so that a busy host delays
 * it little). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 250
#define MAX_FRAME (1 << 18) /* a GSO frame (64 KiB by default) with its virtio header */
#define VNET_HDR 10         /* struct virtio_net_hdr before every frame (IFF_VNET_HDR) */
#define MAX_MACS 1024
#define UP_QUEUE 1000000u /* ns of traffic a sender's link holds before it stops reading */

typedef struct frame {
  struct frame *next;
  uint64_t t_out; /* when it leaves the receiver's link (ns, CLOCK_MONOTONIC) */
  uint32_t len;
  unsigned char data[];
} frame;

typedef struct {
  int fd;
  uint64_t up_busy, down_busy; /* the link is busy sending until then, each direction */
  int paused;                  /* its sender's link is full: not read until up_busy - UP_QUEUE */
  frame *head, *tail;          /* frames on their way out of this port, in t_out order */
  uint64_t rx_frames, tx_frames, drops, write_errors;
} port;

static port ports[MAX_PORTS];
static int nports;
static struct {
  unsigned char mac[6];
  int port;
} macs[MAX_MACS];
static int nmacs;
static uint64_t delay_ns, rate_Bps, queue_ns = 10000000; /* 10 ms, tbf's latency in cluster-up */
static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wire_ns(uint32_t len) {
  return rate_Bps ? (uint64_t)len * 1000000000u / rate_Bps : 0;
}

static void die(const char *what) {
  fprintf(stderr, "linkdelay: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int mac_port(const unsigned char *mac) {
  for (int i = 0; i < nmacs; ++i)
    if (!memcmp(macs[i].mac, mac, 6)) return macs[i].port;
  return -1;
}

static void learn(const unsigned char *mac, int p) {
  if (mac[0] & 1) return; /* a group address is never a source */
  for (int i = 0; i < nmacs; ++i)
    if (!memcmp(macs[i].mac, mac, 6)) {
      macs[i].port = p;
      return;
    }
  if (nmacs < MAX_MACS) {
    memcpy(macs[nmacs].mac, mac, 6);
    macs[nmacs++].port = p;
  }
}

/* Queue the frame f (its bytes in f->data, f->len) on port q's way out; it reached the switch at
 * t_sw. Takes f: queued, or freed when q's queue is full. */
static void enqueue(int q, frame *f, uint64_t t_sw) {
  port *d = &ports[q];
  uint64_t start = d->down_busy > t_sw ? d->down_busy : t_sw;
  if (start - t_sw > queue_ns) { /* the receiver's link queue is full: tail drop */
    ++d->drops;
    free(f);
    return;
  }
  d->down_busy = start + wire_ns(f->len - VNET_HDR);
  f->t_out = d->down_busy + delay_ns;
  f->next = NULL;
  if (d->tail)
    d->tail->next = f;
  else
    d->head = f;
  d->tail = f;
}

/* A copy of f (for one more port of a flood); NULL when out of memory. */
static frame *copy_frame(const frame *f) {
  frame *c = malloc(sizeof *c + f->len);
  if (c) {
    c->len = f->len;
    memcpy(c->data, f->data, f->len);
  }
  return c;
}

/* One frame read from port p's tap at time t (its virtio header first, then the Ethernet frame):
 * through p's link, then switched; the header goes along unchanged, so the receiver's kernel
 * takes a checksum left to offload or a TCP segment larger than the MTU as the sender made it
 * (as over a veth link), and the link time counts the Ethernet frame's bytes. */
static void forward(int p, frame *f, uint64_t t) {
  port *s = &ports[p];
  if (f->len < VNET_HDR + 14) {
    free(f);
    return;
  }
  uint64_t start = s->up_busy > t ? s->up_busy : t;
  s->up_busy = start + wire_ns(f->len - VNET_HDR);
  uint64_t t_sw = s->up_busy + delay_ns;
  ++s->rx_frames;
  const unsigned char *eth = f->data + VNET_HDR;
  learn(eth + 6, p);
  int q = (eth[0] & 1) ? -1 : mac_port(eth);
  if (q == p) {
    free(f);
  } else if (q >= 0) {
    enqueue(q, f, t_sw);
  } else { /* broadcast, multicast or not yet learned: flood */
    int last = nports - 1 == p ? nports - 2 : nports - 1;
    for (q = 0; q < last; ++q) {
      if (q == p) continue;
      frame *c = copy_frame(f);
      if (c)
        enqueue(q, c, t_sw);
      else
        ++ports[q].drops;
    }
    if (last >= 0) enqueue(last, f, t_sw);
    else free(f);
  }
}

/* Hand every frame due by t to its receiver; return the earliest time still pending (0: none). */
static uint64_t deliver(uint64_t t) {
  uint64_t next = 0;
  for (int q = 0; q < nports; ++q) {
    port *d = &ports[q];
    while (d->head && d->head->t_out <= t) {
      frame *f = d->head;
      if (write(d->fd, f->data, f->len) == (ssize_t)f->len)
        ++d->tx_frames;
      else
        ++d->write_errors; /* e.g. the node's link was taken down (cluster-fail.sh --link) */
      d->head = f->next;
      if (!d->head) d->tail = NULL;
      free(f);
    }
    if (d->head && (!next || d->head->t_out < next)) next = d->head->t_out;
  }
  return next;
}

/* Watch port i's tap for frames (on) or not, while its sender's link is full (off). */
static void set_reading(int ep, int i, int on) {
  struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.u32 = (uint32_t)i};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, ports[i].fd, &ev)) die("epoll_ctl");
  ports[i].paused = !on;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: linkdelay DELAY_NS RATE_BYTES_PER_S READY_FILE NETNS_PATH...\n"
          "Create a tap device eth0 in each network namespace (e.g. /run/netns/NAME) and switch\n"
          "Ethernet frames among them, each link delaying every frame by DELAY_NS nanoseconds\n"
          "after sending it at RATE_BYTES_PER_S (0: no limit), each direction; a receiver's\n"
          "link drops beyond 10 ms of queue (LINKDELAY_QUEUE_NS), a sender's link stops reading\n"
          "beyond 1 ms. Writes READY_FILE once the devices exist; runs\n"
          "until SIGTERM or SIGINT, then prints per-port counts. Started by\n"
          "scripts/cluster-up.sh (LINK_DELAY); as root.\n");
}

static uint64_t parse_u64(const char *s, const char *what) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-') {
    fprintf(stderr, "linkdelay: %s must be a non-negative integer, got '%s'\n", what, s);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
    usage(stdout);
    return 0;
  }
  if (argc < 5) {
    usage(stderr);
    return 2;
  }
  delay_ns = parse_u64(argv[1], "DELAY_NS");
  rate_Bps = parse_u64(argv[2], "RATE_BYTES_PER_S");
  if (getenv("LINKDELAY_QUEUE_NS")) queue_ns = parse_u64(getenv("LINKDELAY_QUEUE_NS"), "queue");
  const char *ready = argv[3];
  nports = argc - 4;
  if (nports > MAX_PORTS) {
    fprintf(stderr, "linkdelay: at most %d namespaces\n", MAX_PORTS);
    return 2;
  }

  int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) die("open /proc/self/ns/net");
  for (int i = 0; i < nports; ++i) {
    int ns = open(argv[4 + i], O_RDONLY | O_CLOEXEC);
    if (ns < 0) die(argv[4 + i]);
    if (setns(ns, CLONE_NEWNET)) die("setns");
    close(ns);
    /* the device is made in the namespace the opener is in */
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) die("open /dev/net/tun");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    strcpy(ifr.ifr_name, "eth0");
    if (ioctl(fd, TUNSETIFF, &ifr)) die("TUNSETIFF eth0");
    int hdr = VNET_HDR;
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr)) die("TUNSETVNETHDRSZ");
    /* checksum and segmentation offload, as a veth has: frames go through unchecksummed and
     * unsegmented; a byte copy per frame in here is what the switch costs the host */
    if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) die("TUNSETOFFLOAD");
    ports[i].fd = fd;
  }
  if (setns(home, CLONE_NEWNET)) die("setns back");
  close(home);

  struct sched_param sp = {.sched_priority = 10};
  if (sched_setscheduler(0, SCHED_FIFO, &sp))
    fprintf(stderr, "linkdelay: no SCHED_FIFO (%s): delays may grow on a busy host\n",
            strerror(errno));

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (ep < 0 || tfd < 0) die("epoll/timerfd");
  for (int i = 0; i <= nports; ++i) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, i < nports ? ports[i].fd : tfd, &ev)) die("epoll_ctl");
  }
  FILE *rf = fopen(ready, "w");
  if (!rf || fprintf(rf, "%d\n", (int)getpid()) < 0 || fclose(rf)) die(ready);

  frame *spare = NULL; /* a frame buffer of MAX_FRAME bytes, read into, then handed on */
  uint64_t armed = 0;
  while (!stop) {
    struct epoll_event evs[MAX_PORTS + 1];
    int n = epoll_wait(ep, evs, MAX_PORTS + 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int k = 0; k < n; ++k) {
      int i = (int)evs[k].data.u32;
      if (i == nports) {
        uint64_t x;
        if (read(tfd, &x, sizeof x) < 0 && errno != EAGAIN) die("timerfd");
        armed = 0;
        continue;
      }
      for (int b = 0; b < 64; ++b) { /* a batch, then the others get their turn */
        uint64_t t = now_ns();
        if (ports[i].up_busy > t + UP_QUEUE) { /* its link is full: stop reading it */
          set_reading(ep, i, 0);
          break;
        }
        if (!spare && !(spare = malloc(sizeof *spare + MAX_FRAME))) die("malloc");
        ssize_t len = read(ports[i].fd, spare->data, MAX_FRAME);
        if (len < 0) {
          if (errno == EAGAIN || errno == EINTR) break;
          die("read tap");
        }
        frame *f = realloc(spare, sizeof *f + (size_t)len); /* shrinks in place */
        if (!f) f = spare;
        spare = NULL;
        f->len = (uint32_t)len;
        forward(i, f, t);
      }
    }
    uint64_t t = now_ns(), next = deliver(t);
    for (int i = 0; i < nports; ++i) {
      if (!ports[i].paused) continue;
      uint64_t resume = ports[i].up_busy - UP_QUEUE;
      if (resume <= t)
        set_reading(ep, i, 1);
      else if (!next || resume < next)
        next = resume;
    }
    if (next && next != armed) {
      struct itimerspec its = {{0, 0}, {(time_t)(next / 1000000000u),
                                        (long)(next % 1000000000u)}};
      if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL)) die("timerfd_settime");
      armed = next;
    }
  }
  for (int i = 0; i < nports; ++i)
    fprintf(stderr,
            "linkdelay: port %d: %" PRIu64 " frames in, %" PRIu64 " out, %" PRIu64
            " dropped, %" PRIu64 " not written\n",
            i + 1, ports[i].rx_frames, ports[i].tx_frames, ports[i].drops,
            ports[i].write_errors);
  return 0;
}

/*
 * floor-server: the end-to-end harness's "floor" reference (bench/Sol.Bench/Transport, server kind `floor`).
 *
 * Not a product and not a full WebSocket server: a lean C reference for what a fan-out message costs when little but
 * the kernel's work is left. One thread, one epoll set, no runtime, no queues, no allocation after a connection is
 * upgraded. A broadcast is unmasked and framed once, then sent to every subscriber with one io_uring submission for
 * all of them (IORING_OP_SEND, one entry per subscriber, all pointing at the same bytes), so the system calls cost one
 * io_uring_enter per broadcast and most of what is left is the kernel's cost of one TCP send per subscriber. At a rate
 * with many subscribers (one message per subscriber per broadcast, nothing to coalesce), a server at or near its
 * ratio to ASP.NET Core has little left to gain on that row. It is a measured sample, not a proven bound: registered
 * files or receiving through io_uring could shave a few per cent more, and with few subscribers the fixed cost of a
 * broadcast (waking up, reading the publisher's frame) weighs more.
 *
 * What it leaves out: backpressure (a full socket buffer makes it wait for that subscriber, stalling everyone; one
 * that stays full for 10 s is dropped), timeouts, limits, UTF-8 checks, fragmentation (FIN is ignored: each frame,
 * continuation or not, is forwarded on its own with its opcode), and most of RFC 6455's checks. It speaks just enough
 * of the protocol for the harness's clients (bench/Sol.Bench/Transport/RawWebSocketClient.cs): the upgrade with a real
 * Sec-WebSocket-Accept, masked client frames, and close and ping from echo and publisher connections (what a
 * subscriber sends, close and ping included, is read and dropped).
 *
 * Roles come from the request's query, as with the other bench servers: `role=pub` messages go to every subscriber,
 * `role=sub` connections receive them (what they send is read and dropped), anything else is echoed.
 *
 * The harness talks to it like to its .NET servers (bench/Sol.Bench/Transport/BenchServerHost.cs): it prints
 * `listening PORT`, then answers one line per command on standard input: `cpu` -> `cpu MICROSECONDS 0` (this
 * process's user + system CPU time, getrusage), `conns` -> `conns N` (upgraded connections), `stats` -> `stats N
 * RSS_BYTES 0`, `alloc-top` -> `alloc-top -`. End of input stops it.
 *
 * Build: bench/floor/build.sh (cc -O2). Usage: floor-server [--sends uring|send] (uring is the default and exits with
 * a message when the kernel refuses the ring, so that a row labelled io_uring is one; `send` is one blocking-style
 * send() per subscriber, for comparison).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_FDS 70000
#define HEAD_LIMIT 8192
#define FRAME_BUFFER (256 * 1024)
#define RING_ENTRIES 4096
#define SEND_STALL_MS 10000

enum role { ROLE_ECHO, ROLE_PUB, ROLE_SUB };

struct conn {
    int fd;
    int upgraded;
    enum role role;
    int sub_index; /* in subs[], or -1 */
    size_t len;    /* bytes held in buf */
    size_t cap;
    unsigned char *buf;
};

static struct conn *conns[MAX_FDS];
static int subs[MAX_FDS];
static int sub_count;
static int upgraded_count;
static int epfd;
static unsigned char scratch[64 * 1024];
static unsigned char out[FRAME_BUFFER + 16];

/* ---- SHA-1 (FIPS 180-4), only for Sec-WebSocket-Accept ---- */

static uint32_t rol(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++) {
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    }
    for (int i = 16; i < 80; i++) {
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

/* digest of a message shorter than 120 bytes (a key plus the GUID is 60) */
static void sha1_short(const unsigned char *msg, size_t n, unsigned char digest[20])
{
    uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    unsigned char blocks[128] = {0};
    memcpy(blocks, msg, n);
    blocks[n] = 0x80;
    size_t total = n + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)n * 8;
    for (int i = 0; i < 8; i++) {
        blocks[total - 1 - i] = (unsigned char)(bits >> (8 * i));
    }
    for (size_t at = 0; at < total; at += 64) {
        sha1_block(h, blocks + at);
    }
    for (int i = 0; i < 5; i++) {
        digest[4 * i] = (unsigned char)(h[i] >> 24);
        digest[4 * i + 1] = (unsigned char)(h[i] >> 16);
        digest[4 * i + 2] = (unsigned char)(h[i] >> 8);
        digest[4 * i + 3] = (unsigned char)h[i];
    }
}

static void base64(const unsigned char *in, size_t n, char *text)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        text[o++] = alphabet[v >> 18 & 63];
        text[o++] = alphabet[v >> 12 & 63];
        text[o++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
        text[o++] = i + 2 < n ? alphabet[v & 63] : '=';
    }
    text[o] = 0;
}

/* ---- io_uring without liburing ---- */

struct ring {
    int fd;
    unsigned *sq_tail, *sq_mask, *sq_array;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
};

static struct ring ring = {.fd = -1};

static int ring_setup(void)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_SINGLE_ISSUER;
    int fd = (int)syscall(__NR_io_uring_setup, RING_ENTRIES, &p);
    if (fd < 0) {
        return -1;
    }
    size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
        close(fd);
        errno = ENOSYS; /* a kernel older than 5.4 */
        return -1;
    }
    size_t size = sq_size > cq_size ? sq_size : cq_size;
    unsigned char *rings = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    struct io_uring_sqe *sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                                     MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (rings == MAP_FAILED || sqes == MAP_FAILED) {
        int error = errno;
        close(fd);
        errno = error;
        return -1;
    }
    ring.fd = fd;
    ring.sq_tail = (unsigned *)(rings + p.sq_off.tail);
    ring.sq_mask = (unsigned *)(rings + p.sq_off.ring_mask);
    ring.sq_array = (unsigned *)(rings + p.sq_off.array);
    ring.cq_head = (unsigned *)(rings + p.cq_off.head);
    ring.cq_tail = (unsigned *)(rings + p.cq_off.tail);
    ring.cq_mask = (unsigned *)(rings + p.cq_off.ring_mask);
    ring.cqes = (struct io_uring_cqe *)(rings + p.cq_off.cqes);
    ring.sqes = sqes;
    return 0;
}

/* ---- connections ---- */

static void drop(struct conn *c)
{
    if (c->sub_index >= 0) {
        int last = subs[--sub_count];
        subs[c->sub_index] = last;
        conns[last]->sub_index = c->sub_index;
    }
    if (c->upgraded) {
        upgraded_count--;
    }
    conns[c->fd] = NULL;
    close(c->fd); /* also leaves the epoll set */
    free(c->buf);
    free(c);
}

/* Writes all of it, waiting for room when the socket buffer is full (no backpressure: a stalled reader stalls us). */
static int send_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else if (r < 0 && errno == EAGAIN) {
            struct pollfd waiting = {.fd = fd, .events = POLLOUT};
            if (poll(&waiting, 1, SEND_STALL_MS) <= 0) {
                return -1;
            }
        } else {
            return -1;
        }
    }
    return 0;
}

static int use_ring = 1;
static int failed[MAX_FDS];
static int failed_count;

static void broadcast(const unsigned char *frame, size_t n)
{
    failed_count = 0;
    if (!use_ring || ring.fd < 0) {
        for (int i = 0; i < sub_count; i++) {
            if (send_all(subs[i], frame, n) < 0) {
                failed[failed_count++] = subs[i];
            }
        }
    } else {
        for (int first = 0; first < sub_count;) {
            int chunk = sub_count - first < RING_ENTRIES ? sub_count - first : RING_ENTRIES;
            unsigned tail = *ring.sq_tail;
            for (int k = 0; k < chunk; k++, tail++) {
                unsigned index = tail & *ring.sq_mask;
                struct io_uring_sqe *sqe = &ring.sqes[index];
                memset(sqe, 0, sizeof *sqe);
                sqe->opcode = IORING_OP_SEND;
                sqe->fd = subs[first + k];
                sqe->addr = (uint64_t)(uintptr_t)frame;
                sqe->len = (uint32_t)n;
                /* IORING_OP_SEND does not look at the socket's O_NONBLOCK: without MSG_DONTWAIT a full socket would
                   park the send, and io_uring_enter below would wait for it with no timeout. */
                sqe->msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT;
                sqe->user_data = (uint64_t)subs[first + k];
                ring.sq_array[index] = index;
            }
            __atomic_store_n(ring.sq_tail, tail, __ATOMIC_RELEASE);
            int submitted = 0;
            while (submitted < chunk) {
                int r = (int)syscall(__NR_io_uring_enter, ring.fd, chunk - submitted, chunk - submitted,
                                     IORING_ENTER_GETEVENTS, NULL, 0);
                if (r < 0 && errno == EINTR) {
                    continue;
                }
                if (r <= 0) {
                    fprintf(stderr, "floor-server: io_uring_enter: %s\n", strerror(errno));
                    exit(1);
                }
                submitted += r;
            }
            /* Every send was issued; wait for and read every completion (sockets are non-blocking: -EAGAIN or a
               short count come back, and the rest is written with send_all). */
            int completed = 0;
            while (completed < chunk) {
                unsigned head = *ring.cq_head;
                unsigned ready = __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE);
                if (head == ready) {
                    int r = (int)syscall(__NR_io_uring_enter, ring.fd, 0, 1, IORING_ENTER_GETEVENTS, NULL, 0);
                    if (r < 0 && errno != EINTR) {
                        fprintf(stderr, "floor-server: io_uring_enter: %s\n", strerror(errno));
                        exit(1);
                    }
                    continue;
                }
                for (; head != ready; head++, completed++) {
                    struct io_uring_cqe *cqe = &ring.cqes[head & *ring.cq_mask];
                    int fd = (int)cqe->user_data;
                    int res = cqe->res;
                    if (res == -EAGAIN) {
                        res = 0;
                    }
                    if (res < 0 || ((size_t)res < n && send_all(fd, frame + res, n - (size_t)res) < 0)) {
                        failed[failed_count++] = fd;
                    }
                }
                __atomic_store_n(ring.cq_head, head, __ATOMIC_RELEASE);
            }
            first += chunk;
        }
    }
    for (int i = 0; i < failed_count; i++) {
        if (conns[failed[i]] != NULL) {
            drop(conns[failed[i]]);
        }
    }
}

static int reserve(struct conn *c, size_t cap)
{
    if (c->cap >= cap) {
        return 0;
    }
    unsigned char *grown = realloc(c->buf, cap);
    if (grown == NULL) {
        return -1;
    }
    c->buf = grown;
    c->cap = cap;
    return 0;
}

/* Returns -1 when the connection must be dropped. */
static int upgrade(struct conn *c)
{
    unsigned char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (end == NULL) {
        return c->len >= HEAD_LIMIT ? -1 : 0;
    }
    *end = 0;
    char *head = (char *)c->buf;
    char *line_end = strstr(head, "\r\n");
    if (line_end != NULL) {
        *line_end = 0;
    }
    c->role = strstr(head, "role=pub") ? ROLE_PUB : strstr(head, "role=sub") ? ROLE_SUB : ROLE_ECHO;
    const char *key = NULL;
    size_t key_length = 0;
    for (char *line = line_end ? line_end + 2 : NULL; line != NULL && *line;) {
        char *next = strstr(line, "\r\n");
        if (next != NULL) {
            *next = 0;
        }
        if (strncasecmp(line, "Sec-WebSocket-Key:", 18) == 0) {
            key = line + 18;
            while (*key == ' ' || *key == '\t') {
                key++;
            }
            key_length = strcspn(key, " \t");
        }
        line = next ? next + 2 : NULL;
    }
    if (key == NULL || key_length == 0 || key_length > 60) {
        static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        send_all(c->fd, (const unsigned char *)bad, sizeof bad - 1);
        return -1;
    }
    unsigned char joined[120];
    memcpy(joined, key, key_length);
    memcpy(joined + key_length, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
    unsigned char digest[20];
    sha1_short(joined, key_length + 36, digest);
    char accept[32];
    base64(digest, 20, accept);
    char answer[256];
    int length = snprintf(answer, sizeof answer,
                          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: %s\r\n\r\n",
                          accept);
    if (send_all(c->fd, (const unsigned char *)answer, (size_t)length) < 0) {
        return -1;
    }
    size_t rest = c->len - (size_t)(end + 4 - c->buf);
    memmove(c->buf, end + 4, rest);
    c->len = rest;
    c->upgraded = 1;
    upgraded_count++;
    if (c->role == ROLE_SUB) {
        c->sub_index = sub_count;
        subs[sub_count++] = c->fd;
        c->len = 0; /* what a subscriber sends is dropped */
    } else if (reserve(c, FRAME_BUFFER) < 0) {
        return -1;
    }
    return 0;
}

/* Frames what is in c->buf: every whole frame is answered; the rest stays. Returns -1 to drop the connection. */
static int frames(struct conn *c)
{
    size_t at = 0;
    while (c->len - at >= 2) {
        unsigned char *p = c->buf + at;
        int opcode = p[0] & 0x0f;
        if (!(p[1] & 0x80)) {
            return -1; /* unmasked */
        }
        size_t header = 2;
        uint64_t length = p[1] & 0x7f;
        if (length == 126) {
            if (c->len - at < 4) {
                break;
            }
            length = (uint64_t)p[2] << 8 | p[3];
            header = 4;
        } else if (length == 127) {
            if (c->len - at < 10) {
                break;
            }
            length = 0;
            for (int i = 0; i < 8; i++) {
                length = length << 8 | p[2 + i];
            }
            header = 10;
        }
        if (length > FRAME_BUFFER - 16) {
            return -1;
        }
        if (c->len - at < header + 4 + length) {
            break;
        }
        const unsigned char *mask = p + header;
        const unsigned char *payload = mask + 4;
        size_t o = 0;
        out[o++] = (unsigned char)(0x80 | (opcode == 9 ? 10 : opcode));
        if (length < 126) {
            out[o++] = (unsigned char)length;
        } else if (length <= 0xffff) {
            out[o++] = 126;
            out[o++] = (unsigned char)(length >> 8);
            out[o++] = (unsigned char)length;
        } else {
            out[o++] = 127;
            for (int i = 7; i >= 0; i--) {
                out[o++] = (unsigned char)(length >> (8 * i));
            }
        }
        for (size_t i = 0; i < length; i++) {
            out[o + i] = payload[i] ^ mask[i & 3];
        }
        o += length;
        at += header + 4 + length;
        if (opcode == 8) {
            send_all(c->fd, out, o); /* the close answered with the same status */
            return -1;
        }
        if (opcode == 10) {
            continue; /* pong */
        }
        if (opcode == 9 || c->role == ROLE_ECHO) {
            if (send_all(c->fd, out, o) < 0) {
                return -1;
            }
        } else if (c->role == ROLE_PUB) {
            broadcast(out, o);
        }
    }
    memmove(c->buf, c->buf + at, c->len - at);
    c->len -= at;
    return 0;
}

static void readable(struct conn *c)
{
    while (1) {
        unsigned char *into;
        size_t room;
        if (c->upgraded && c->role == ROLE_SUB) {
            into = scratch;
            room = sizeof scratch;
        } else {
            into = c->buf + c->len;
            room = c->cap - c->len;
            if (room == 0) {
                drop(c);
                return;
            }
        }
        ssize_t r = recv(c->fd, into, room, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            drop(c);
            return;
        }
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (c->upgraded && c->role == ROLE_SUB) {
            continue;
        }
        c->len += (size_t)r;
        int fd = c->fd;
        if ((!c->upgraded && upgrade(c) < 0) || (c->upgraded && c->len > 0 && frames(c) < 0)) {
            if (conns[fd] == c) {
                drop(c);
            }
            return;
        }
        if (conns[fd] != c) {
            return; /* dropped by a broadcast that failed to reach it */
        }
        if ((size_t)r < room) {
            return;
        }
    }
}

static void accept_all(int listener)
{
    while (1) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* The listener is level-triggered: waiting on it now would spin. Stop accepting. */
                fprintf(stderr, "floor-server: accept: %s; no more connections are accepted\n", strerror(errno));
                epoll_ctl(epfd, EPOLL_CTL_DEL, listener, NULL);
            }
            return;
        }
        if (fd >= MAX_FDS) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (c == NULL || reserve(c, HEAD_LIMIT) < 0) {
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->sub_index = -1;
        conns[fd] = c;
        struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
    }
}

static long resident_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm != NULL) {
        if (fscanf(statm, "%ld %ld", &pages, &resident) != 2) {
            resident = 0;
        }
        fclose(statm);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

/* Answers the harness's commands; returns -1 at the end of input. */
static int commands(void)
{
    static char line[256];
    static size_t held;
    ssize_t r = read(0, line + held, sizeof line - 1 - held);
    if (r <= 0) {
        return -1;
    }
    held += (size_t)r;
    char *start = line, *newline;
    while ((newline = memchr(start, '\n', held - (size_t)(start - line))) != NULL) {
        *newline = 0;
        if (strcmp(start, "cpu") == 0) {
            struct rusage usage;
            getrusage(RUSAGE_SELF, &usage);
            long long micros = (long long)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000 +
                               usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
            printf("cpu %lld 0\n", micros);
        } else if (strcmp(start, "conns") == 0) {
            printf("conns %d\n", upgraded_count);
        } else if (strcmp(start, "stats") == 0) {
            printf("stats %d %ld 0\n", upgraded_count, resident_bytes());
        } else if (strcmp(start, "alloc-top") == 0) {
            printf("alloc-top -\n");
        } else {
            printf("error unknown command %s\n", start);
        }
        fflush(stdout);
        start = newline + 1;
    }
    held -= (size_t)(start - line);
    memmove(line, start, held);
    if (held == sizeof line - 1) {
        held = 0; /* a line that long is no command */
    }
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sends") == 0 && i + 1 < argc && strcmp(argv[i + 1], "uring") == 0) {
            use_ring = 1;
            i++;
        } else if (strcmp(argv[i], "--sends") == 0 && i + 1 < argc && strcmp(argv[i + 1], "send") == 0) {
            use_ring = 0;
            i++;
        } else {
            fprintf(stderr, "usage: floor-server [--sends uring|send]\n");
            return 2;
        }
    }
    if (use_ring && ring_setup() < 0) {
        fprintf(stderr, "floor-server: io_uring is not available here (%s); run with --sends send, or leave floor out\n",
                strerror(errno));
        return 1;
    }
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t address_length = sizeof address;
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 4096) < 0 ||
        getsockname(listener, (struct sockaddr *)&address, &address_length) < 0) {
        fprintf(stderr, "floor-server: cannot listen on 127.0.0.1: %s\n", strerror(errno));
        return 1;
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
    epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &event);
    event.data.fd = 0;
    epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &event);
    printf("listening %d\n", ntohs(address.sin_port));
    fflush(stdout);
    struct epoll_event events[256];
    while (1) {
        int n = epoll_wait(epfd, events, 256, -1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fprintf(stderr, "floor-server: epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                accept_all(listener);
            } else if (fd == 0) {
                if (commands() < 0) {
                    return 0;
                }
            } else if (conns[fd] != NULL) {
                readable(conns[fd]);
            }
        }
    }
}

/* particles: a struct-heavy simulation.  Particles (structs of nested
 * vector structs, passed and returned by value) move through an integer
 * box, bounce off the walls and exchange velocities with a partner when
 * two share a cell of a collision grid.  Wall bounces only flip signs and
 * collisions only swap velocities, so sum(vx^2), sum(vy^2) and the multiset
 * of |vx| are invariant -- that is checked every 100 steps; the final state
 * is checked against a reference checksum for the default size.
 * usage: particles [N]   (default 20000 particles, 1000 steps)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEPS 1000
#define WORLD 4096
#define CELL 16
#define GRID (WORLD / CELL)
#define MAXV 9
#define DEFAULT_N 20000
#define DEFAULT_CHECKSUM 0x6784bc14cfed5091ULL

struct vec {
    int x, y;
};

struct particle {
    struct vec pos, vel;
    int id;
    int bounces;
    int collisions;
    int next_in_cell;
};

struct stats {
    long bounces, collisions;
    int64_t energy_x, energy_y;
    int64_t abs_vx;
};

struct world {
    struct particle *p;
    int n;
    int *cell_head;
    struct stats stats;
};

static struct vec vec_add(struct vec a, struct vec b)
{
    struct vec r = {a.x + b.x, a.y + b.y};
    return r;
}

static struct vec vec_neg_x(struct vec v)
{
    struct vec r = {-v.x, v.y};
    return r;
}

static struct vec vec_neg_y(struct vec v)
{
    struct vec r = {v.x, -v.y};
    return r;
}

static uint32_t seed = 2024;

static int rnd(int range)
{
    seed = seed * 1664525u + 1013904223u;
    return (int)((seed >> 8) % (uint32_t)range);
}

static struct stats measure(const struct world *w)
{
    struct stats s = w->stats;
    s.energy_x = s.energy_y = s.abs_vx = 0;
    for (int i = 0; i < w->n; i++) {
        struct particle q = w->p[i];
        s.energy_x += (int64_t)q.vel.x * q.vel.x;
        s.energy_y += (int64_t)q.vel.y * q.vel.y;
        s.abs_vx += q.vel.x < 0 ? -q.vel.x : q.vel.x;
    }
    return s;
}

static void move(struct world *w)
{
    for (int i = 0; i < w->n; i++) {
        struct particle *q = &w->p[i];
        struct vec np = vec_add(q->pos, q->vel);
        if (np.x < 0 || np.x >= WORLD) {
            q->vel = vec_neg_x(q->vel);
            np.x = np.x < 0 ? -np.x : 2 * (WORLD - 1) - np.x;
            q->bounces++;
            w->stats.bounces++;
        }
        if (np.y < 0 || np.y >= WORLD) {
            q->vel = vec_neg_y(q->vel);
            np.y = np.y < 0 ? -np.y : 2 * (WORLD - 1) - np.y;
            q->bounces++;
            w->stats.bounces++;
        }
        q->pos = np;
    }
}

static void collide(struct world *w)
{
    for (int c = 0; c < GRID * GRID; c++)
        w->cell_head[c] = -1;
    for (int i = 0; i < w->n; i++) {
        struct particle *q = &w->p[i];
        int c = (q->pos.y / CELL) * GRID + q->pos.x / CELL;
        q->next_in_cell = w->cell_head[c];
        w->cell_head[c] = i;
    }
    /* pair up particles in each cell; each pair swaps velocities */
    for (int c = 0; c < GRID * GRID; c++) {
        int i = w->cell_head[c];
        while (i >= 0 && w->p[i].next_in_cell >= 0) {
            int j = w->p[i].next_in_cell;
            struct particle a = w->p[i], b = w->p[j];
            struct vec t = a.vel;
            a.vel = b.vel;
            b.vel = t;
            a.collisions++;
            b.collisions++;
            w->p[i] = a;
            w->p[j] = b;
            w->stats.collisions++;
            i = b.next_in_cell;
        }
    }
}

int main(int argc, char **argv)
{
    int n = DEFAULT_N;
    if (argc > 1) {
        char *end;
        long v = strtol(argv[1], &end, 10);
        if (*end != '\0' || v < 1 || v > 10000000) {
            fprintf(stderr, "usage: %s [N in 1..10000000]\n", argv[0]);
            return 2;
        }
        n = (int)v;
    }
    struct world w;
    memset(&w, 0, sizeof w);
    w.n = n;
    w.p = calloc(n, sizeof *w.p);
    w.cell_head = malloc(GRID * GRID * sizeof *w.cell_head);
    if (w.p == NULL || w.cell_head == NULL) {
        fprintf(stderr, "particles: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        struct particle q;
        memset(&q, 0, sizeof q);
        q.pos.x = rnd(WORLD);
        q.pos.y = rnd(WORLD);
        q.vel.x = rnd(2 * MAXV + 1) - MAXV;
        q.vel.y = rnd(2 * MAXV + 1) - MAXV;
        q.id = i;
        w.p[i] = q;
    }
    struct stats start = measure(&w);

    for (int step = 1; step <= STEPS; step++) {
        move(&w);
        collide(&w);
        if (step % 100 == 0) {
            struct stats s = measure(&w);
            printf("step %d: %ld bounces, %ld collisions, energy %lld + %lld\n", step,
                   s.bounces, s.collisions, (long long)s.energy_x, (long long)s.energy_y);
            if (s.energy_x != start.energy_x || s.energy_y != start.energy_y ||
                s.abs_vx != start.abs_vx) {
                fprintf(stderr, "particles: MISMATCH: invariants broken at step %d\n", step);
                return 1;
            }
        }
    }

    uint64_t checksum = 0;
    long total_bounces = 0;
    for (int i = 0; i < n; i++) {
        struct particle q = w.p[i];
        checksum = checksum * 1000003 + (uint64_t)(q.pos.x * WORLD + q.pos.y) +
                   ((uint64_t)(q.vel.x + MAXV) << 32) + ((uint64_t)q.collisions << 40);
        total_bounces += q.bounces;
    }
    printf("checksum %016llx\n", (unsigned long long)checksum);
    if (total_bounces != w.stats.bounces) {
        fprintf(stderr, "particles: MISMATCH: per-particle bounces %ld, total %ld\n",
                total_bounces, w.stats.bounces);
        return 1;
    }
    if (n == DEFAULT_N && checksum != DEFAULT_CHECKSUM) {
        fprintf(stderr, "particles: MISMATCH: checksum %016llx, expected %016llx\n",
                (unsigned long long)checksum, (unsigned long long)DEFAULT_CHECKSUM);
        return 1;
    }
    printf("particles: verified\n");
    free(w.p);
    free(w.cell_head);
    return 0;
}

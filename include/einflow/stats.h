/* einflow stats stage — derived metrics from raw counters: time at the
 * clock, utilization, per-level traffic, roofline, energy and an area
 * proxy. Formulas live here once; reporters only print what this
 * computes. The energy model and its built-in table are described in
 * docs/energy.md.
 *
 * Ownership: plain value structs, nothing to free. */
#ifndef EINFLOW_STATS_H
#define EINFLOW_STATS_H

#include "einflow/sim.h"

/* ---------- energy model ----------
 *
 * The built-in table (45 nm; M. Horowitz, "Computing's energy problem
 * (and what we can do about it)", ISSCC 2014, and the normalized costs
 * of Y.-H. Chen, J. Emer, V. Sze, ISCA 2016). Every function returns
 * pJ; bits are a word's precision (>= 1). docs/energy.md gives the
 * numbers and derives each rule. */

/* One add (or compare) and one multiply of `bits`-bit operands:
 * log-log interpolation between Horowitz's 8- and 32-bit integer points
 * (16- and 32-bit floating-point points), extrapolated along the same
 * line outside them. */
double ef_energy_add_pj(ef_arithmetic a, int bits);
double ef_energy_mul_pj(ef_arithmetic a, int bits);
/* One MAC: a multiply of a_bits x b_bits operands (costed at the
 * geometric mean width, since an array multiplier grows as a x b) plus
 * an add at the accumulator width acc_bits. */
double ef_energy_mac_pj(ef_arithmetic a, int a_bits, int b_bits, int acc_bits);
/* One operator of a non-MAC Einsum (on the vector unit or the PEs) on
 * bits-wide operands: add and mul as above; max a compare, priced as
 * an integer add (IEEE floats order like sign-magnitude integers); div
 * and exp derived from their constructions out of multiplies and adds
 * (docs/energy.md, "Operators"). */
double ef_energy_op_pj(ef_arithmetic a, ef_vector_op op, int bits);
/* What one operator is built of (the same for its energy and its
 * area): multiplies and adds in its number format, and compares
 * (integer adds). */
typedef struct {
    int muls, adds, compares;
} ef_op_parts;
void ef_op_parts_of(ef_vector_op op, int bits, ef_op_parts *out);
/* The 16-bit integer MAC that the Eyeriss ratios are relative to. */
double ef_energy_ref_mac_pj(void);
/* One word access of a register file: 1 x the reference MAC, scaled
 * by bits / 16. */
double ef_energy_regfile_pj(int bits);
/* One word access of an on-chip SRAM of capacity_bytes (one instance;
 * 0 = unlimited, costed as 1 MiB): Horowitz's 64-bit access energies
 * at 8 KiB, 32 KiB and 1 MiB, interpolated in log-log, extrapolated
 * along the end segments, scaled by bits / 64; never below a register
 * file access nor above a DRAM access of the same width. */
double ef_energy_sram_pj(uint64_t capacity_bytes, int bits);
/* One word of DRAM traffic: the middle of Horowitz's 1.3-2.6 nJ per
 * 64 bits, charged per byte (bits / 8 bytes). */
double ef_energy_dram_pj(int bits);
/* One word moved one network hop: 2 x the reference MAC, by bits / 16. */
double ef_energy_hop_pj(int bits);

typedef enum {
    EF_ENERGY_TABLE,   /* the built-in table                           */
    EF_ENERGY_ARCH     /* given in the architecture file               */
} ef_energy_source;

/* Unit costs of one nest: what each action costs, with overrides from
 * the architecture applied. Per word at each tensor's precision. */
typedef struct {
    double op_pj;                                    /* one iteration point  */
    ef_energy_source op_source;
    double read_pj[EF_MAX_LEVELS][EF_NEST_MAX_OPS];  /* per word read        */
    double write_pj[EF_MAX_LEVELS][EF_NEST_MAX_OPS]; /* per word filled or updated */
    ef_energy_source level_source[EF_MAX_LEVELS];
    double hop_pj[EF_NEST_MAX_OPS];                  /* per word per hop     */
    ef_energy_source noc_source;
} ef_energy_costs;

void ef_energy_costs_of(const ef_nest *n, ef_energy_costs *out);

/* ---------- area and static power (area.c, docs/area.md) ----------
 *
 * The built-in table, at the energy table's 45 nm: arithmetic from the
 * same Horowitz ISSCC 2014 figure (area beside energy), SRAM at
 * 600 F^2 a bit (D. J. Greaves' CACTI rule of thumb), registers and
 * the leakage per mm^2 from Aladdin's TSMC 40 nm characterization
 * (Shao et al., ISCA 2014). Areas in um^2 for one circuit, mm^2 for a
 * component; static power in mW. */

/* One adder (or comparator) and one multiplier, interpolated in
 * log-log between the table's points as their energies are. */
double ef_area_add_um2(ef_arithmetic a, int bits);
double ef_area_mul_um2(ef_arithmetic a, int bits);
/* One MAC lane: a multiplier at the geometric mean of a_bits and
 * b_bits plus an adder of acc_bits. */
double ef_area_mac_um2(ef_arithmetic a, int a_bits, int b_bits, int acc_bits);
/* One pipelined functional unit of a vector lane (ef_op_parts_of). */
double ef_area_op_um2(ef_arithmetic a, ef_vector_op op, int bits);
/* bits of flip-flops (a register file, a network's pipeline latch). */
double ef_area_register_um2(uint64_t bits);
/* One SRAM (kind sram) or register file (kind regfile) instance of
 * capacity_bytes with `ports` read/write ports: per bit, the cell of
 * the table times ((1 + ports) / 2)^2. 0 for 0 bytes. */
double ef_area_sram_mm2(uint64_t capacity_bytes, int ports);
double ef_area_regfile_mm2(uint64_t capacity_bytes, int ports);
/* Static power of area_mm2 of logic or memory: the table's mW/mm^2. */
double ef_leakage_mw(double area_mm2);
/* Energy that mw of static power costs over cycles at clock_mhz:
 * mW x cycles x 1000 / MHz pJ (1 mW for 1 ns is 1 pJ). */
double ef_leakage_pj(double mw, uint64_t cycles, double clock_mhz);

/* Area and static power of the whole architecture a nest runs on
 * (every declared level, the PE array, the networks and the vector
 * unit, whichever unit the nest computes on), with the architecture's
 * overrides applied. Widths come from the nest's workload: a capacity
 * in words at its widest precision, the MACs at the nest's Einsum's
 * operand and output widths (the widest, for a non-MAC Einsum). */
typedef struct {
    int level_count;
    double level_mm2[EF_MAX_LEVELS];   /* one instance                   */
    double level_mw[EF_MAX_LEVELS];    /* one instance                   */
    uint64_t level_instances[EF_MAX_LEVELS];
    ef_energy_source level_area_source[EF_MAX_LEVELS];
    ef_energy_source level_leakage_source[EF_MAX_LEVELS];
    uint64_t pes;
    double pe_mm2, pe_mw;              /* one PE's MAC lanes             */
    double noc_mm2, noc_mw;            /* every network                  */
    double vector_mm2, vector_mw;      /* all lanes; 0 without a unit    */
    double total_mm2, total_mw;        /* all of the above, x instances  */
} ef_area_costs;

void ef_area_costs_of(const ef_nest *n, ef_area_costs *out);

/* ---------- per-run metrics ---------- */

/* One port or link on the roofline: the bytes it moved and the ops per
 * cycle its bandwidth allows at that intensity. Since no run moves more
 * bytes through a port than its bandwidth allows in the cycles it took
 * (docs/model.md section 4), achieved <= attainable always. */
typedef struct {
    uint64_t bytes;                /* all instances                     */
    double operational_intensity;  /* ops per byte; 0 when no traffic   */
    double bandwidth_bytes;        /* per cycle, all instances; 0 = inf */
    double attainable_ops;         /* per cycle: min(peak, bandwidth x
                                    * intensity); the peak when unlimited */
    double used_bandwidth_bytes;   /* per cycle: bytes / cycles         */
} ef_roofline_port;

typedef struct {
    ef_roofline_port read;         /* reads: toward the child or MACs   */
    ef_roofline_port write;        /* fills and updates                 */
    double attainable_ops;         /* per cycle: the lower port's       */
    double achieved_ops;           /* per cycle: ops / cycles           */
    bool memory_bound;             /* attainable below the peak         */
} ef_roofline_level;

/* Energy of one tensor's actions at one level, all instances. */
typedef struct {
    double read_pj;
    double fill_pj;
    double update_pj;
} ef_action_energy;

typedef struct {
    double seconds;
    double utilization;            /* of the PE array: 0 while the
                                    * vector unit computes              */
    double vector_utilization;     /* of the vector unit: points / (lanes
                                    * x cycles); 0 on the array         */
    double peak_ops;               /* per cycle: PEs x MACs per PE, or the
                                    * vector unit's lanes               */
    /* energy_pj = compute + sum(level) + noc: the dynamic energy, always
     * finite; energy_total_pj adds the static energy (leakage_energy_pj) */
    double energy_pj;
    double energy_total_pj;
    double compute_energy_pj;      /* MACs and other operators          */
    double vector_energy_pj;       /* the part of compute_energy_pj spent
                                    * on the vector unit                */
    double noc_energy_pj;          /* hops x per-hop energy             */
    double leakage_energy_pj;      /* levels, MACs, networks, vector unit */
    double level_energy_pj[EF_MAX_LEVELS];     /* accesses, all tensors */
    double level_leakage_pj[EF_MAX_LEVELS];    /* all instances, over the
                                                * run's span of cycles   */
    double mac_leakage_pj, noc_leakage_pj, vector_leakage_pj;
    ef_area_costs area;
    ef_action_energy tensor_energy[EF_MAX_LEVELS][EF_NEST_MAX_OPS];
    ef_energy_costs costs;
    uint64_t storage_bits;         /* area proxy: on-chip capacity      */
    uint64_t pes;                  /* area proxy: PE count              */
    /* traffic, all instances, at each tensor's precision */
    uint64_t tensor_read_bytes[EF_MAX_LEVELS][EF_NEST_MAX_OPS];  /* reads */
    uint64_t tensor_write_bytes[EF_MAX_LEVELS][EF_NEST_MAX_OPS]; /* fills + updates */
    uint64_t read_bytes[EF_MAX_LEVELS], write_bytes[EF_MAX_LEVELS];
    /* of read_bytes, the outputs written back out to the parent */
    uint64_t writeback_bytes[EF_MAX_LEVELS];
    double used_bandwidth_bytes[EF_MAX_LEVELS]; /* (read + write) / cycles */
    ef_roofline_level roofline[EF_MAX_LEVELS];
    ef_roofline_port roofline_noc_in;  /* words into the array          */
    ef_roofline_port roofline_noc_out; /* partial sums and outputs back */
    /* "compute", or the port or link ("DRAM.read", "noc GLB->RF") whose
     * attainable is lowest and below the peak */
    char roofline_bound[2 * EF_MAX_NAME + 16];
} ef_stats;

void ef_stats_compute(const ef_result *r, ef_stats *out);
/* ef_stats_compute's energy_pj alone (dynamic energy), which needs only
 * r's counters: it is known once pass 1 has counted (ef_sim_options
 * budget), before the cycles. */
double ef_stats_energy_pj(const ef_result *r);

/* Bits of on-chip storage the architecture declares (sram and regfile
 * levels with a capacity, x instances; capacities in words at the
 * widest precision the level keeps in n). Saturates at UINT64_MAX. */
uint64_t ef_stats_storage_bits(const ef_nest *n);

/* Rates of a run (or a sum of runs). A rate that does not exist (no
 * MACs, no energy, no time) has its has_* false and value 0. */
typedef struct {
    double pj_per_mac;             /* energy / MACs                     */
    double tops_per_watt;          /* (2 x MACs + other ops) / energy   */
    double watts;                  /* energy / seconds                  */
    bool has_pj_per_mac, has_tops_per_watt, has_watts;
} ef_energy_rates;

void ef_stats_energy_rates(double energy_pj, uint64_t macs, uint64_t ops,
                           double seconds, ef_energy_rates *out);

#endif

#!/bin/bash
# Draw a run's plots from its JSON alone:
#   scripts/plot.sh DIR
# runs `ktls-bench plotdata DIR` (JSON -> DIR/plots/*.dat), then gnuplot
# (gnuplot-nox: svg and pngcairo terminals) into DIR/plots/NAME.svg and .png:
#   handshakes      handshakes/s against concurrency, one line per series (and
#                   server threads), through the measured points only; points
#                   where the server was not saturated are ringed, those whose
#                   CPUs other work disturbed are crossed
#   throughput      MB/s (10^6 bytes/s) against response size, per cipher and record layer
#   cpu_per_byte    server ns/B by cipher: userspace, kTLS, nginx, AEAD floor
#   ceiling_ratio   each scenario's crypto floor / measured server CPU
#   icount_per_byte (a --clock instructions run, alone) server instructions
#                   per byte by cipher, size and record layer, user and kernel stacked
# A plot with no data is skipped. Figures from the VM are titled "(VM, emulated)".
set -euo pipefail
dir=${1:?usage: scripts/plot.sh RUN_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
bench=${KTLS_BIN:-$here/bin}/ktls-bench
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot missing: apt-get install gnuplot-nox" >&2; exit 1; }
[[ -x $bench ]] || { echo "plot.sh: $bench missing: build it with make" >&2; exit 1; }
"$bench" plotdata "$dir"
p=$dir/plots

# (0 for a file plotdata did not write: an instruction-count run has only its own)
blocks() { [[ -f $1 ]] || { echo 0; return; }; grep -c '^"' "$1" || true; }
rows() { [[ -f $1 ]] || { echo 0; return; }; grep -cv '^#' "$1" || true; }

# draw NAME GNUPLOT-COMMANDS: once as SVG, once as PNG
draw() {
	local name=$1 body=$2 term
	for term in "svg size 960,600 dynamic font 'sans,11' background '#ffffff'" \
		    "pngcairo size 1280,800 font 'sans,11'"; do
		local ext=svg
		[[ $term == pngcairo* ]] && ext=png
		# an nginx block with no point is expected: drop gnuplot's word on it
		gnuplot 2> >(grep -v 'no valid points' >&2) <<-GP
		set terminal $term
		set output '$p/$name.$ext'
		set grid
		set key outside right top
		set datafile missing '?'
		$body
		GP
	done
	echo "plot.sh: $p/$name.svg, $p/$name.png"
}

# nginx's twin series of NAME.dat, dashed in the same colour, when nginx ran any
nginx_series() {
	local f=$p/$1_nginx.dat
	grep -q '^[0-9]' "$f" 2>/dev/null || return 0
	echo ", for [i=0:$((n - 1))] '$f' index i using 1:2 with linespoints lw 2 dt 2 lc i+1 title columnheader(1)"
}

# the marks on handshake points: column 3 of FILE, bit 1 not saturated, bit 2 disturbed
marks() {
	local f=$1
	grep -q '^[0-9]' "$f" 2>/dev/null || return 0
	echo ", for [i=0:$((n - 1))] '$f' index i using 1:(int(column(3)) % 2 == 1 ? \$2 : NaN) with points pt 6 ps 2.4 lw 1.5 lc rgb '#444444' notitle"
	echo ", for [i=0:$((n - 1))] '$f' index i using 1:(int(column(3)) >= 2 ? \$2 : NaN) with points pt 2 ps 2.4 lw 2 lc rgb '#cc0000' notitle"
}

n=$(blocks "$p/handshakes.dat")
if ((n > 0)); then
	legend=
	awk '!/^[#"]/ && NF >= 3 && $3 % 2 == 1 { f = 1 } END { exit !f }' "$p"/handshakes*.dat &&
		legend+=", NaN with points pt 6 ps 2.4 lw 1.5 lc rgb '#444444' title 'server not saturated (busy < 90% of its cores)'"
	awk '!/^[#"]/ && NF >= 3 && $3 >= 2 { f = 1 } END { exit !f }' "$p"/handshakes*.dat &&
		legend+=", NaN with points pt 2 ps 2.4 lw 2 lc rgb '#cc0000' title 'disturbed (other work > 10% of its CPUs)'"
	draw handshakes "
set title 'Handshakes per second against concurrency (lines join measured points; nginx dashed)'
set logscale x 2
set xlabel 'connections in flight'
set ylabel 'handshakes/s (log scale)'
set logscale y 10
set key font ',9'
plot for [i=0:$((n - 1))] '$p/handshakes.dat' index i using 1:2 with linespoints lw 2 lc i+1 title columnheader(1)$(
	nginx_series handshakes)$(marks "$p/handshakes.dat" | tr -d '\n')$(marks "$p/handshakes_nginx.dat" | tr -d '\n')$legend"
fi

n=$(blocks "$p/throughput.dat")
if ((n > 0)); then
	draw throughput "
set title 'Throughput against response size (nginx dashed; runs in the emulated VM are not plotted)'
set logscale x 2
set logscale y 10
set format x '%.0b%B'
set xlabel 'response size (bytes, binary prefixes)'
set ylabel 'MB/s (10^6 bytes per second, log scale)'
set key font ',9'
plot for [i=0:$((n - 1))] '$p/throughput.dat' index i using 1:2 with linespoints lw 2 lc i+1 title columnheader(1)$(
	nginx_series throughput)"
fi

# a column of cpu_per_byte.dat with at least one figure ('?' = not measured)
has_col() { awk -v c="$1" '!/^#/ && NR > 2 && $c != "?" { f = 1 } END { exit !f }' "$p/cpu_per_byte.dat"; }
if (($(rows "$p/cpu_per_byte.dat") > 1)); then
	series=()
	has_col 2 && series+=("'$p/cpu_per_byte.dat' using 2:xtic(1) title 'ktls-server, userspace'")
	has_col 3 && series+=("'$p/cpu_per_byte.dat' using 3:xtic(1) title 'ktls-server, kTLS'")
	has_col 4 && series+=("'$p/cpu_per_byte.dat' using 4:xtic(1) title 'nginx'")
	has_col 5 && series+=("'$p/cpu_per_byte.dat' using 5:xtic(1) title 'AEAD floor (openssl speed)'")
	if ((${#series[@]})); then
		plot=$(IFS=,; echo "${series[*]}")
		draw cpu_per_byte "
set title 'Server CPU per byte at the largest response size, by cipher (lower is better)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key autotitle columnheader
set ylabel 'ns of server CPU per byte'
set yrange [0:*]
plot $plot"
	fi
fi

if (($(rows "$p/ceiling_ratio.dat") > 1)); then
	nginx_col=
	awk '!/^#/ && NR > 3 && $NF != "?" { f = 1 } END { exit !f }' "$p/ceiling_ratio.dat" &&
		nginx_col=", '' using 3 title 'nginx'"
	draw ceiling_ratio "
set title 'Crypto floor / measured server CPU (1.0 = nothing but crypto)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key autotitle columnheader
set xtics rotate by -40 font ',9'
set bmargin 12
set ylabel 'ratio to the crypto ceiling'
set yrange [0:1.05]
plot '$p/ceiling_ratio.dat' using 2:xtic(1) title 'ktls-server'$nginx_col, 1 with lines dt 2 lc 'black' title 'ceiling'"
fi

if (($(rows "$p/icount_per_byte.dat") > 1)); then
	draw icount_per_byte "
set title 'Server instructions per response byte (QEMU icount): user and kernel stacked'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.7
set key autotitle columnheader
set xtics rotate by -40 font ',9'
set bmargin 10
set ylabel 'instructions per byte'
set yrange [0:*]
plot '$p/icount_per_byte.dat' using 2:xtic(1) title 'user', '' using 3 title 'kernel'"
fi

# bench/machine.sh: sourced by the benchmark scripts. What machine the figures come from, and how
# busy it is while they are taken.

# Other work on the machine skews the figures: the load, and CPU pressure where the kernel has it.
busy() {
  echo -n "load $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
  if [[ -r /proc/pressure/cpu ]]; then
    echo -n ", CPU pressure $(sed -n 's/^some avg10=\([^ ]*\) avg60=\([^ ]*\) avg300=\([^ ]*\).*/\1% \2% \3%/p' /proc/pressure/cpu) (10 s, 60 s, 300 s)"
  fi
  echo
}

# print_machine WORK: the "== machine" lines (date, CPU, memory, OS, the disk under WORK).
print_machine() {
  local work=$1 device
  echo "== machine"
  echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu:      $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc)"
  echo "memory:   $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "os:       $(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release), kernel $(uname -r)"
  echo "disk:     $work on $(df -PhT "$work" | awk 'NR == 2 { print $1 " (" $2 ", " $3 " total, " $5 " free)" }')"
  device="$(df -P "$work" | awk 'NR == 2 { print $1 }')"
  if [[ -b "$device" ]]; then
    echo "          $(lsblk -dno NAME,ROTA,MODEL "$device" 2>/dev/null | awk '{ printf "%s rotational=%s %s", $1, $2, $3 }')"
  fi
}

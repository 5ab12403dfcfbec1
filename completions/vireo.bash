# bash completion for vireo (docs/cli.md).
#
# Installed as share/bash-completion/completions/vireo; from a checkout:
#     source completions/vireo.bash
#
# Keep the option lists in sync with the option tables of src/cli/run.c,
# vm.c, net.c and switch.c. VM and network names come from
# `vireo vm list --quiet` / `vireo net list --quiet` (with the --data-dir
# given on the line, if any).

# Options of `vireo vm create|modify` (parse_opts in src/cli/vm.c).
_vireo_machine_opts() {
    local i
    printf '%s\n' --cpus --memory --kernel --initrd --append --cmdline --firmware --disk \
        --cpu-cap --cpu-affinity --balloon
    for i in 1 2 3 4 5 6 7 8; do
        printf '%s\n' "--nic$i" "--natpf$i"
    done
}

# Names of VMs ($1 = vm) or networks ($1 = net), one a line.
_vireo_names() {
    local args=("$1" list --quiet)
    [[ -n $_vireo_ddir ]] && args+=(--data-dir "$_vireo_ddir")
    "$_vireo_bin" "${args[@]}" 2>/dev/null
}

# Adds the values of option $1 (of command family $2: run, vm, net, switch)
# to the caller's cands; sets its files=f (file names too) or d (directories).
_vireo_values() {
    local opt=$1 fam=$2 n d
    case $opt in
    --nic | --nic[1-8])
        case $_vireo_val in
        *=*) ;;
        *) cands+=(nat natnetwork= bridged= intnet= hostonly= 'generic,' none) ;;
        esac
        case $_vireo_val in
        intnet=* | natnetwork=* | hostonly=*)
            # Defined networks (the daemon's); a plain `vireo run` does not
            # start a daemon just to complete a name.
            if [[ $fam == vm ]]; then
                while IFS= read -r n; do
                    [[ -n $n ]] && cands+=("${_vireo_val%%=*}=$n")
                done < <(_vireo_names net)
            fi
            ;;
        bridged=*)
            for d in /sys/class/net/*; do
                [[ -e $d ]] && cands+=("bridged=${d##*/}")
            done
            ;;
        generic*)
            cands+=('generic,stream,listen=' 'generic,stream,connect=' 'generic,dgram,local=' 'generic,vxlan,vni=')
            ;;
        esac
        ;;
    --uplink) cands+=('stream,listen=' 'stream,connect=' 'dgram,local=' 'vxlan,vni=') ;;
    --kind) cands+=(intnet natnetwork hostonly bridged) ;;
    --console) [[ $fam == run ]] && cands+=(uart virtio) ;;
    --mmu) cands+=(sv39 sv48 sv57) ;;
    --kernel) cands+=(none) files=f ;;
    --firmware) cands+=(builtin) files=f ;;
    --initrd | --disk | --pcap | --dump-dtb | --console-log | --state-file | --control | --console-socket)
        files=f ;;
    --data-dir) files=d ;;
    esac
}

# Does option $1 of family $2 take a value?
_vireo_takes_value() {
    case $2:$1 in
    *:--data-dir | *:--natpf | *:--natpf[1-8] | *:--nic | *:--nic[1-8] | *:--kind | *:--cidr | *:--mtu | \
        *:--uplink | *:--pcap | *:--cpus | *:--memory | *:--kernel | *:--initrd | *:--append | \
        *:--cmdline | *:--firmware | *:--disk | *:--cpu-cap | *:--cpu-affinity | vm:--timeout | vm:--balloon | \
        run:--console | run:--mmu | run:--dump-dtb | run:--name | run:--control | run:--state-file | \
        run:--console-socket | run:--console-log | switch:--name | switch:--ifname | switch:--ready-fd)
        return 0 ;;
    esac
    return 1
}

_vireo() {
    local line words=() cword fcur
    # Split the line ourselves on blanks, so that words like intnet=lan1 and
    # --data-dir=/x stay whole (COMP_WORDS splits them at '=').
    if [[ -n ${COMP_LINE+set} && -n ${COMP_POINT+set} ]]; then
        line=${COMP_LINE:0:COMP_POINT}
        read -ra words <<<"$line"
        [[ -z $line || $line == *[[:blank:]] ]] && words+=("")
    else
        words=("${COMP_WORDS[@]:0:COMP_CWORD+1}")
    fi
    ((${#words[@]})) || words=(vireo "")
    cword=$((${#words[@]} - 1))
    fcur=${words[cword]}

    local _vireo_bin=${words[0]} _vireo_ddir='' _vireo_val='' i
    [[ $_vireo_bin == \~/* ]] && _vireo_bin=$HOME/${_vireo_bin:2}
    command -v -- "$_vireo_bin" >/dev/null 2>&1 || _vireo_bin=vireo
    # --data-dir anywhere on the line (a VM's name comes before it).
    local all=("${words[@]:0:cword}")
    if [[ -n ${COMP_LINE+set} ]]; then
        read -ra all <<<"$COMP_LINE"
    fi
    for ((i = 1; i < ${#all[@]}; i++)); do
        ((i == cword)) && continue
        case ${all[i]} in
        --data-dir) ((i + 1 != cword)) && _vireo_ddir=${all[i + 1]} ;;
        --data-dir=*) _vireo_ddir=${all[i]#--data-dir=} ;;
        esac
    done
    [[ $_vireo_ddir == \~/* ]] && _vireo_ddir=$HOME/${_vireo_ddir:2}

    local cmd=${words[1]} sub=${words[2]} fam='' prev='' prefix='' cands=() files=''
    ((cword >= 2)) && prev=${words[cword - 1]}
    case $cmd in
    run | switch) fam=$cmd ;;
    vm | net) fam=$cmd ;;
    esac

    # The option whose value is being completed: --opt=VAL or --opt VAL.
    local vopt=
    if [[ $fcur == --*=* ]]; then
        vopt=${fcur%%=*}
        _vireo_val=${fcur#*=}
        prefix=$vopt=
    elif [[ -n $fam && $prev == --* && $cword -ge 2 ]] && _vireo_takes_value "$prev" "$fam"; then
        vopt=$prev
        _vireo_val=$fcur
    fi

    if ((cword == 1)); then
        if [[ $fcur == -* ]]; then
            cands=(--help --version)
        else
            cands=(run vm net switch guest version help)
        fi
    elif [[ -n $vopt ]]; then
        _vireo_values "$vopt" "$fam"
    else
        case $cmd in
        run)
            cands=(--kernel --initrd --append --cmdline --firmware --cpus --memory --disk --console --mmu
                --no-rng --balloon --dump-dtb --stats --nic --natpf --no-nic --name --control --state-file
                --console-socket --console-log --cpu-cap --cpu-affinity --verbose --help)
            ;;
        switch)
            cands=(--kind --name --cidr --ifname --no-dhcp --natpf --uplink --mtu --pcap --on-demand
                --daemonize --ready-fd --verbose --help)
            ;;
        guest)
            ((cword == 2)) && cands=(build)
            ;;
        vm)
            if ((cword == 2)); then
                cands=(create list show modify start stop poweroff pause resume console delete help)
            elif ((cword == 3)) && [[ $fcur != -* ]]; then
                case $sub in
                show | modify | start | stop | poweroff | pause | resume | console | delete)
                    mapfile -t cands < <(_vireo_names vm)
                    ;;
                esac
            else
                cands=(--data-dir --help)
                case $sub in
                create | modify) mapfile -t -O 2 cands < <(_vireo_machine_opts) ;;
                list) cands+=(--json --quiet) ;;
                show) cands+=(--json --stats) ;;
                start) cands+=(--console) ;;
                stop) cands+=(--timeout) ;;
                esac
            fi
            ;;
        net)
            if ((cword == 2)); then
                cands=(create list show delete help)
            elif ((cword == 3)) && [[ $fcur != -* ]]; then
                case $sub in
                show | delete) mapfile -t cands < <(_vireo_names net) ;;
                esac
            else
                cands=(--data-dir --help)
                case $sub in
                create) cands+=(--kind --cidr --mtu --no-dhcp --natpf --uplink --pcap) ;;
                list) cands+=(--json --quiet) ;;
                show) cands+=(--json) ;;
                esac
            fi
            ;;
        esac
    fi

    COMPREPLY=()
    local c match=$fcur
    [[ -n $vopt ]] && match=$_vireo_val
    for c in "${cands[@]}"; do
        [[ $c == "$match"* ]] && COMPREPLY+=("$prefix$c")
    done
    if [[ -n $files ]]; then
        compopt -o filenames 2>/dev/null
        while IFS= read -r c; do
            [[ -n $c ]] && COMPREPLY+=("$prefix$c")
        done < <(compgen -"$files" -- "$_vireo_val")
    fi
    # No space after a word that wants more (intnet=, generic,).
    for c in "${COMPREPLY[@]}"; do
        [[ $c == *[=,] ]] && compopt -o nospace 2>/dev/null
    done

    # Readline replaces only the text after the last word-break character
    # (by default '=' and ':' among them): drop what comes before it.
    local wb=${COMP_WORDBREAKS- }
    local k drop=0
    for ((k = ${#fcur} - 1; k >= 0; k--)); do
        if [[ $wb == *"${fcur:k:1}"* ]]; then
            drop=$((k + 1))
            break
        fi
    done
    if ((drop)); then
        for i in "${!COMPREPLY[@]}"; do
            COMPREPLY[i]=${COMPREPLY[i]:drop}
        done
    fi
    return 0
}
complete -F _vireo vireo

# ~/.bashrc: executed by bash(1) for non-login shells.

# If not running interactively, don't do anything
case $- in
    *i*) ;;
      *) return;;
esac

HISTCONTROL=ignoreboth
HISTSIZE=5000
HISTFILESIZE=10000
shopt -s histappend
shopt -s checkwinsize

PS1='\u@\h:\w\$ '

alias ll='ls -alF'
alias la='ls -A'
alias gs='git status'
alias serve='python3 ~/projects/webapp/app.py'

export PATH="$HOME/bin:$HOME/.local/bin:$PATH"
export EDITOR=nano

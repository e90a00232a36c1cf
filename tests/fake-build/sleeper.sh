#!/bin/sh
# A process of a fake build that would outlive it: its argument (the test's
# mark) shows on its command line so the test finds it in /proc.
sleep 300

// Package reaper ends the processes kubectl-stretch started, and the
// processes they started, when it is interrupted or exits.
//
// Some children are not started by this program's code and cannot be
// given a process group or a context: client-go runs a kubeconfig's exec
// credential plugin with exec.Command and no SysProcAttr, and waits for it
// without a context. A plugin that never returns would hold the command
// forever, and a plugin killed alone would leave its own children behind.
//
// On Linux the program therefore becomes a child subreaper
// (prctl(PR_SET_CHILD_SUBREAPER)): a process whose parent dies is
// re-parented to kubectl-stretch rather than to init, so that every
// descendant stays in the tree /proc/self/task/*/children describes.
// Signal walks that tree and signals each descendant that is still in
// kubectl-stretch's session. A process in another session, such as the
// detached simulated cluster of `sim up --detach` (started with Setsid),
// is meant to outlive the command and is left alone with its subtree.
//
// Elsewhere the functions do nothing: children there end with the
// terminal's signal, as before.
package reaper

// Workloads are the user's objects: a mixin cannot change them.
{ workloads+: {} }

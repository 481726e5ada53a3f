// Package lint runs the spread patcher's rules as static checks over
// manifest files, without a cluster, and reports each finding with its
// rule ID, severity, file, object and fix, as a table, JSON, YAML or JUnit.
package lint

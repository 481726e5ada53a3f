package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The record of an executing drill: a ConfigMap written before the drill
// changes anything, read by drill --restore, deleted last.
const (
	RecordNamespace = "kube-system"
	RecordName      = "kubectl-stretch-drill"
)

// ErrNoRecord means no drill record exists: there is nothing to restore.
var ErrNoRecord = errors.New("no drill record")

// RecordedTaint is a taint a drill adds to a node and restore removes.
type RecordedTaint struct {
	Node   string `json:"node"`
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"`
}

// Record is what restoring a drill needs.
type Record struct {
	// Region is the lost region; Via how it was lost (v1alpha1.DrillVia*).
	Region, Via string
	// StateDir is the simulated cluster's state folder (Via sim).
	StateDir string
	// Nodes are the region's nodes.
	Nodes []string
	// Taints are the taints the drill adds, only those the nodes did not
	// have before.
	Taints []RecordedTaint
	// Started is when the drill began; Version the tool's version.
	Started time.Time
	Version string
}

// ActiveError is the error of CreateRecord when a record exists already:
// another drill runs, or one ended without restoring.
type ActiveError struct {
	Record *Record
}

func (e *ActiveError) Error() string {
	return fmt.Sprintf("a drill of region %s (via %s, started %s) is recorded in ConfigMap %s/%s: it is running, or it ended without restoring; "+
		"run kubectl stretch drill --restore -f TOPOLOGY first", e.Record.Region, e.Record.Via, e.Record.Started.UTC().Format(time.RFC3339), RecordNamespace, RecordName)
}

// configMap encodes the record.
func (r *Record) configMap() (*corev1.ConfigMap, error) {
	taints, err := json.Marshal(r.Taints)
	if err != nil {
		return nil, err
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: RecordName, Namespace: RecordNamespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "kubectl-stretch"}},
		Data: map[string]string{
			"region":  r.Region,
			"via":     r.Via,
			"state":   r.StateDir,
			"nodes":   strings.Join(r.Nodes, ","),
			"taints":  string(taints),
			"started": r.Started.UTC().Format(time.RFC3339),
			"version": r.Version,
		},
	}, nil
}

// recordOf decodes a record.
func recordOf(cm *corev1.ConfigMap) (*Record, error) {
	d := cm.Data
	r := &Record{Region: d["region"], Via: d["via"], StateDir: d["state"], Version: d["version"]}
	if d["nodes"] != "" {
		r.Nodes = strings.Split(d["nodes"], ",")
	}
	if d["taints"] != "" {
		if err := json.Unmarshal([]byte(d["taints"]), &r.Taints); err != nil {
			return nil, fmt.Errorf("ConfigMap %s/%s: taints: %w", RecordNamespace, RecordName, err)
		}
	}
	if d["started"] != "" {
		t, err := time.Parse(time.RFC3339, d["started"])
		if err != nil {
			return nil, fmt.Errorf("ConfigMap %s/%s: started: %w", RecordNamespace, RecordName, err)
		}
		r.Started = t
	}
	if r.Region == "" {
		return nil, fmt.Errorf("ConfigMap %s/%s: no region", RecordNamespace, RecordName)
	}
	return r, nil
}

// ReadRecord returns the record, or ErrNoRecord.
func ReadRecord(ctx context.Context, c kubernetes.Interface) (*Record, error) {
	cm, err := c.CoreV1().ConfigMaps(RecordNamespace).Get(ctx, RecordName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, ErrNoRecord
	}
	if err != nil {
		return nil, fmt.Errorf("read the drill record: %w", err)
	}
	return recordOf(cm)
}

// CreateRecord writes the record; when one exists already the error is an
// *ActiveError naming it.
func CreateRecord(ctx context.Context, c kubernetes.Interface, r *Record) error {
	cm, err := r.configMap()
	if err != nil {
		return fmt.Errorf("encode the drill record: %w", err)
	}
	_, err = c.CoreV1().ConfigMaps(RecordNamespace).Create(ctx, cm, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		old, rerr := ReadRecord(ctx, c)
		if rerr != nil {
			return errors.Join(fmt.Errorf("a drill record exists: run kubectl stretch drill --restore -f TOPOLOGY first"), rerr)
		}
		return &ActiveError{Record: old}
	}
	if err != nil {
		return fmt.Errorf("write the drill record: %w", err)
	}
	return nil
}

// deleteRecord deletes the record; a record already gone is fine.
func deleteRecord(ctx context.Context, c kubernetes.Interface) error {
	err := c.CoreV1().ConfigMaps(RecordNamespace).Delete(ctx, RecordName, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete the drill record: %w", err)
	}
	return nil
}

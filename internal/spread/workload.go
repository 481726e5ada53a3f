package spread

import (
	"fmt"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// class groups the workload kinds by what the patcher does with them.
type class int

const (
	// classReplicated are Deployments, StatefulSets and ReplicaSets: spread,
	// kept off the arbiter, given replicas and a PodDisruptionBudget.
	classReplicated class = iota
	// classDaemon are DaemonSets: one pod per node, only checked for pins.
	classDaemon
	// classBatch are Jobs, CronJobs and bare Pods: left alone, checked for
	// risks.
	classBatch
)

// workload is a decoded object that has a pod template (or is a Pod).
type workload struct {
	obj   *object
	class class
	spec  *yaml.Node // the object's spec

	replicasNode *yaml.Node // spec.replicas, possibly null; nil when missing
	replicas     int        // 1 when unset
	replicasSet  bool

	selectorNode *yaml.Node // spec.selector, nil when missing
	selector     *selector
	labelsNode   *yaml.Node // the pod template's labels
	labels       map[string]string

	podPath string     // field path of the pod spec
	podSpec *yaml.Node // nil when missing (only for non-replicated kinds)
	pod     podInfo

	claimTemplates []claimTemplate // StatefulSet volumeClaimTemplates

	// stripped is set once PatchStream's first pass has dropped the nodes
	// above. podSelector then returns budgetSel and, when hasBudget, an
	// empty node; addPDBs keeps the one it puts in a budget as budgetSlot,
	// for the second pass to fill with the selector read again.
	stripped   bool
	hasBudget  bool
	budgetSel  *selector
	budgetSlot *yaml.Node
}

// strip drops the workload's nodes and what only its own patch reads,
// keeping what the patch of other objects reads: its object, class and
// labels, and the selector of the budget it may get.
func (w *workload) strip() {
	if w.class == classReplicated && !w.obj.skip { // addPDBs skips the rest
		switch {
		case w.selectorNode != nil && !w.selector.empty():
			w.hasBudget, w.budgetSel = true, w.selector
		case len(w.labels) > 0:
			w.hasBudget, w.budgetSel = true, &selector{labels: w.labels}
		}
	}
	w.stripped = true
	w.pod, w.claimTemplates, w.selector = podInfo{}, nil, nil // read by its own patch only
	w.spec, w.replicasNode, w.selectorNode, w.labelsNode, w.podSpec = nil, nil, nil, nil, nil
	for i := range w.pod.constraints {
		w.pod.constraints[i].node = nil
	}
	for i := range w.pod.terms {
		w.pod.terms[i].node = nil
	}
}

// claimTemplate is a StatefulSet volumeClaimTemplate.
type claimTemplate struct {
	name, class string
}

// podInfo is what the patcher reads from a pod spec.
type podInfo struct {
	constraints  []constraint
	terms        []term // required node affinity
	nodeSelector map[string]string
	nodeName     string
	hostPaths    []string
	claims       []string
	tolerations  []toleration
}

// constraint is a topologySpreadConstraint.
type constraint struct {
	node                   *yaml.Node
	key, when, taintPolicy string
}

// term is a required nodeSelectorTerm.
type term struct {
	node  *yaml.Node
	exprs []requirement
}

// toleration is a pod toleration.
type toleration struct {
	key, op, value, effect string
}

// readWorkload reads a Deployment, StatefulSet, ReplicaSet, DaemonSet, Job,
// CronJob or Pod.
func (pt *patcher) readWorkload(r *reader, o *object) *workload {
	w := &workload{obj: o}
	n := o.node
	var tmpl *yaml.Node
	tmplPath := "spec.template"
	switch o.kind {
	case "Deployment", "StatefulSet", "ReplicaSet":
		w.class = classReplicated
		w.spec = r.mapping(n, "", "spec")
		tmpl = r.mapping(w.spec, "spec", "template")
		w.podSpec = r.mapping(tmpl, tmplPath, "spec")
		switch {
		case r.err != nil:
		case w.spec == nil:
			r.fail(n, "spec", "missing")
		case tmpl == nil:
			r.fail(w.spec, tmplPath, "missing")
		case w.podSpec == nil:
			r.fail(tmpl, tmplPath+".spec", "missing")
		}
		w.replicasNode, w.replicas, w.replicasSet = r.count(w.spec, "spec", "replicas")
		if !w.replicasSet {
			w.replicas = 1
		}
		w.selectorNode = r.mapping(w.spec, "spec", "selector")
		w.selector = readSelector(r, w.spec, "spec", "selector")
		if o.kind == "StatefulSet" {
			vcts := r.items(r.list(w.spec, "spec", "volumeClaimTemplates"), "spec.volumeClaimTemplates")
			for i, v := range vcts {
				p := index("spec.volumeClaimTemplates", i)
				ct := claimTemplate{name: r.str(r.mapping(v, p, "metadata"), p+".metadata", "name")}
				ct.class = r.str(r.mapping(v, p, "spec"), p+".spec", "storageClassName")
				w.claimTemplates = append(w.claimTemplates, ct)
			}
		}
	case "DaemonSet", "Job":
		w.class = classBatch
		if o.kind == "DaemonSet" {
			w.class = classDaemon
		}
		w.spec = r.mapping(n, "", "spec")
		tmpl = r.mapping(w.spec, "spec", "template")
		w.podSpec = r.mapping(tmpl, tmplPath, "spec")
	case "CronJob":
		w.class = classBatch
		w.spec = r.mapping(n, "", "spec")
		jt := r.mapping(w.spec, "spec", "jobTemplate")
		js := r.mapping(jt, "spec.jobTemplate", "spec")
		tmplPath = "spec.jobTemplate.spec.template"
		tmpl = r.mapping(js, "spec.jobTemplate.spec", "template")
		w.podSpec = r.mapping(tmpl, tmplPath, "spec")
	case "Pod":
		w.class = classBatch
		w.podSpec = r.mapping(n, "", "spec")
		w.labelsNode, w.labels = r.labels(r.mapping(n, "", "metadata"), "metadata", "labels")
		w.podPath = "spec"
	}
	if o.kind != "Pod" {
		w.labelsNode, w.labels = r.labels(r.mapping(tmpl, tmplPath, "metadata"), tmplPath+".metadata", "labels")
		w.podPath = tmplPath + ".spec"
	}
	w.pod = readPod(r, w.podSpec, w.podPath)
	if r.err != nil {
		return nil
	}
	return w
}

// readPod reads and checks the fields of a pod spec that the patcher uses.
func readPod(r *reader, ps *yaml.Node, path string) podInfo {
	var pi podInfo
	if ps == nil {
		return pi
	}
	p := child(path, "topologySpreadConstraints")
	for i, c := range r.items(r.list(ps, path, "topologySpreadConstraints"), p) {
		ip := index(p, i)
		pi.constraints = append(pi.constraints, constraint{
			node:        c,
			key:         r.str(c, ip, "topologyKey"),
			when:        r.str(c, ip, "whenUnsatisfiable"),
			taintPolicy: r.str(c, ip, "nodeTaintsPolicy"),
		})
	}
	p = child(path, "affinity")
	na := r.mapping(r.mapping(ps, path, "affinity"), p, "nodeAffinity")
	p = child(p, "nodeAffinity")
	req := r.mapping(na, p, "requiredDuringSchedulingIgnoredDuringExecution")
	p = child(p, "requiredDuringSchedulingIgnoredDuringExecution")
	terms := r.items(r.list(req, p, "nodeSelectorTerms"), child(p, "nodeSelectorTerms"))
	p = child(p, "nodeSelectorTerms")
	for i, t := range terms {
		pi.terms = append(pi.terms, term{node: t, exprs: readRequirements(r, t, index(p, i), "matchExpressions")})
	}
	_, pi.nodeSelector = r.labels(ps, path, "nodeSelector")
	pi.nodeName = r.str(ps, path, "nodeName")
	p = child(path, "volumes")
	for i, v := range r.items(r.list(ps, path, "volumes"), p) {
		ip := index(p, i)
		name := r.str(v, ip, "name")
		if r.mapping(v, ip, "hostPath") != nil {
			pi.hostPaths = append(pi.hostPaths, name)
		}
		if c := r.mapping(v, ip, "persistentVolumeClaim"); c != nil {
			if claim := r.str(c, child(ip, "persistentVolumeClaim"), "claimName"); claim != "" {
				pi.claims = append(pi.claims, claim)
			}
		}
	}
	p = child(path, "tolerations")
	for i, t := range r.items(r.list(ps, path, "tolerations"), p) {
		ip := index(p, i)
		pi.tolerations = append(pi.tolerations, toleration{
			key:    r.str(t, ip, "key"),
			op:     r.str(t, ip, "operator"),
			value:  r.str(t, ip, "value"),
			effect: r.str(t, ip, "effect"),
		})
	}
	return pi
}

// podSelector returns the selector that spread constraints and the
// PodDisruptionBudget use for the workload's pods: a copy of spec.selector
// when it has requirements, else the template's labels as matchLabels. It
// returns nil when there is nothing to select on.
//
// The selector is preferred over the full template labels because
// templates often carry labels that change on every release (a chart or
// app version): a spread over those would count old and new pods apart.
func (w *workload) podSelector() (*yaml.Node, *selector) {
	if w.stripped {
		if !w.hasBudget {
			return nil, nil
		}
		return &yaml.Node{}, w.budgetSel
	}
	if w.selectorNode != nil && !w.selector.empty() {
		return cleanCopy(w.selectorNode), w.selector
	}
	if len(w.labels) > 0 {
		return newMap(newStr("matchLabels"), cleanCopy(w.labelsNode)), &selector{labels: w.labels}
	}
	return nil, nil
}

// patchWorkload applies the rules to one workload; hpas are the
// HorizontalPodAutoscalers that target it.
func (pt *patcher) patchWorkload(w *workload, hpas []*hpa) {
	o := w.obj
	if w.class != classReplicated {
		pt.podRisks(w, false)
		if o.kind == "Pod" && !o.hook {
			pt.risk(o, ruleBarePod, "has no controller and is not recreated when its region is lost")
		}
		return
	}
	fix := !o.skip
	if o.skip {
		pt.optedOut(o)
	}
	zoneSpread := pt.spread(w, fix)
	if fix {
		pt.keepOffArbiter(w)
		pt.evictAfter(w)
	}
	shared := pt.sharedClaims(w)
	pt.replicate(w, hpas, fix, shared)
	pt.podRisks(w, zoneSpread)
	for _, ct := range w.claimTemplates {
		if pt.zoneBound[ct.class] {
			pt.risk(o, ruleZoneBoundStorage,
				"volumeClaimTemplate %s uses StorageClass %s, whose volumes live in one region", ct.name, ct.class)
		}
	}
}

// optedOut reports an object annotated with the policy's SkipAnnotation.
func (pt *patcher) optedOut(o *object) {
	ann := fmt.Sprintf("annotated %s: \"true\"", pt.p.SkipAnnotation)
	pt.report(o, ruleOptedOut, false, ann+": opted out of spread patching", ann+"; left unchanged")
}

// spread adds the zone and hostname spread constraints and makes a user's
// DoNotSchedule zone constraint honor taints. fix false only reports. It
// returns whether the workload ends up with a DoNotSchedule zone spread.
func (pt *patcher) spread(w *workload, fix bool) (zoneDoNotSchedule bool) {
	o := w.obj
	zone, host := false, false
	for _, c := range w.pod.constraints {
		switch c.key {
		case pt.p.ZoneKey:
			zone = true
			if c.when != "DoNotSchedule" {
				continue
			}
			zoneDoNotSchedule = true
			if c.taintPolicy == "Honor" {
				continue
			}
			was := "unset (Ignore)"
			if c.taintPolicy != "" {
				was = c.taintPolicy
			}
			msg := fmt.Sprintf("the DoNotSchedule spread on %s has nodeTaintsPolicy %s: a lost region still "+
				"counts as a domain, so replacement pods stay Pending until it returns", pt.p.ZoneKey, was)
			if !fix {
				pt.report(o, ruleZoneSpreadBlocksFailover, false, msg, msg)
				continue
			}
			if v := lookup(c.node, "nodeTaintsPolicy"); v != nil {
				setStr(v, "Honor")
			} else {
				c.node.Content = append(c.node.Content, newStr("nodeTaintsPolicy"), newStr("Honor"))
			}
			pt.report(o, ruleZoneSpreadBlocksFailover, true, msg, msg+"; set nodeTaintsPolicy: Honor")
		case LabelHostname:
			host = true
		}
	}
	if !fix || zone && host {
		return zoneDoNotSchedule
	}
	selNode, _ := w.podSelector()
	if selNode == nil {
		pt.report(o, ruleNoPodLabels, false,
			"neither spec.selector nor the pod template has labels, so no spread constraint can select the pods",
			"neither spec.selector nor the pod template has labels; not spread")
		return zoneDoNotSchedule
	}
	tsc := ensure(w.podSpec, "topologySpreadConstraints", yaml.SequenceNode)
	if !zone {
		tsc.Content = append(tsc.Content, w.constraint(pt.p.ZoneKey, "DoNotSchedule", selNode))
		pt.report(o, ruleZoneSpread, true, noSpread(pt.p.ZoneKey),
			fmt.Sprintf("no spread over %s; added one with maxSkew 1, DoNotSchedule and nodeTaintsPolicy Honor", pt.p.ZoneKey))
		zoneDoNotSchedule = true
		selNode = cleanCopy(selNode)
	}
	if !host {
		tsc.Content = append(tsc.Content, w.constraint(LabelHostname, "ScheduleAnyway", selNode))
		pt.report(o, ruleHostnameSpread, true, noSpread(LabelHostname),
			fmt.Sprintf("no spread over %s; added one with maxSkew 1 and ScheduleAnyway", LabelHostname))
	}
	return zoneDoNotSchedule
}

// evictAfter gives the pod template NoExecute tolerations of the unreachable
// and not-ready taints with tolerationSeconds the policy's EvictionSeconds,
// replacing the ones it has. A template that already has exactly those is
// left as it is.
func (pt *patcher) evictAfter(w *workload) {
	if pt.p.EvictionSeconds == nil {
		return
	}
	secs := *pt.p.EvictionSeconds
	keys := []string{TaintUnreachable, TaintNotReady}
	ts := lookup(w.podSpec, "tolerations")
	exact, other := map[string]int{}, 0
	if ts != nil && ts.Kind == yaml.SequenceNode {
		for _, t := range ts.Content {
			key := scalarValue(lookup(t, "key"))
			if !containsStr(keys, key) || scalarValue(lookup(t, "effect")) != "NoExecute" {
				continue
			}
			if scalarValue(lookup(t, "operator")) == "Exists" && scalarValue(lookup(t, "tolerationSeconds")) == strconv.Itoa(secs) {
				exact[key]++
			} else {
				other++
			}
		}
	}
	if exact[TaintUnreachable] == 1 && exact[TaintNotReady] == 1 && other == 0 {
		return
	}
	// Replace each key's first toleration in place and drop the others,
	// so that the indexes of the tolerations before them stay the same.
	want := func(k string) *yaml.Node {
		return newMap(
			newStr("key"), newStr(k),
			newStr("operator"), newStr("Exists"),
			newStr("effect"), newStr("NoExecute"),
			newStr("tolerationSeconds"), newInt(secs),
		)
	}
	ts = ensure(w.podSpec, "tolerations", yaml.SequenceNode)
	done := map[string]bool{}
	var out []*yaml.Node
	for _, t := range ts.Content {
		key := scalarValue(lookup(t, "key"))
		if !containsStr(keys, key) || scalarValue(lookup(t, "effect")) != "NoExecute" {
			out = append(out, t)
			continue
		}
		if !done[key] {
			done[key] = true
			out = append(out, want(key))
		}
	}
	for _, k := range keys {
		if !done[k] {
			out = append(out, want(k))
		}
	}
	ts.Content = out
	problem := fmt.Sprintf("the NoExecute tolerations of %s and %s are not tolerationSeconds %d (the topology's "+
		"evictionSeconds): a lost node keeps the pods for 300 s when a pod has none", TaintUnreachable, TaintNotReady, secs)
	pt.report(w.obj, ruleEvictionSeconds, true, problem,
		fmt.Sprintf("set the NoExecute tolerations of %s and %s to tolerationSeconds %d", TaintUnreachable, TaintNotReady, secs))
}

// noSpread is the problem of a missing spread constraint on a topology key.
func noSpread(key string) string {
	return "no topologySpreadConstraint on " + key
}

// constraint builds a topologySpreadConstraint; a DoNotSchedule one honors
// taints so that a lost region does not block fail-over.
func (w *workload) constraint(key, when string, sel *yaml.Node) *yaml.Node {
	c := newMap(
		newStr("maxSkew"), newInt(1),
		newStr("topologyKey"), newStr(key),
		newStr("whenUnsatisfiable"), newStr(when),
		newStr("labelSelector"), sel,
	)
	if when == "DoNotSchedule" {
		c.Content = append(c.Content, newStr("nodeTaintsPolicy"), newStr("Honor"))
	}
	if w.obj.kind == "Deployment" {
		c.Content = append(c.Content, newStr("matchLabelKeys"), newStrSeq([]string{LabelPodTemplateHash}))
	}
	return c
}

// keepOffArbiter requires the pods to run in the data zones: the zone In
// DataZones is ANDed into every required node selector term that does not
// already keep to the data zones (terms are ORed, so each needs it).
func (pt *patcher) keepOffArbiter(w *workload) {
	o := w.obj
	zones := strings.Join(pt.p.DataZones, ", ")
	if len(w.pod.terms) == 0 {
		aff := ensure(w.podSpec, "affinity", yaml.MappingNode)
		na := ensure(aff, "nodeAffinity", yaml.MappingNode)
		req := ensure(na, "requiredDuringSchedulingIgnoredDuringExecution", yaml.MappingNode)
		terms := ensure(req, "nodeSelectorTerms", yaml.SequenceNode)
		terms.Content = append(terms.Content, newMap(newStr("matchExpressions"), newSeq(pt.zoneRequirement())))
		pt.report(o, ruleArbiterAffinity, true,
			fmt.Sprintf("no required node affinity keeps the pods in the data regions (%s In [%s])", pt.p.ZoneKey, zones),
			fmt.Sprintf("added a required node affinity: %s In [%s]", pt.p.ZoneKey, zones))
		return
	}
	n := 0
	for _, t := range w.pod.terms {
		if pt.keepsToData(t) {
			continue
		}
		me := ensure(t.node, "matchExpressions", yaml.SequenceNode)
		me.Content = append(me.Content, pt.zoneRequirement())
		n++
	}
	if n > 0 {
		pt.report(o, ruleArbiterAffinity, true,
			fmt.Sprintf("%d of %d required node selector terms do not keep the pods in the data regions (%s In [%s])",
				n, len(w.pod.terms), pt.p.ZoneKey, zones),
			fmt.Sprintf("added %s In [%s] to %d of %d required node selector terms", pt.p.ZoneKey, zones, n, len(w.pod.terms)))
	}
}

func (pt *patcher) zoneRequirement() *yaml.Node {
	return newMap(
		newStr("key"), newStr(pt.p.ZoneKey),
		newStr("operator"), newStr("In"),
		newStr("values"), newStrSeq(pt.p.DataZones),
	)
}

// keepsToData reports whether a node selector term already allows data
// zones only.
func (pt *patcher) keepsToData(t term) bool {
	for _, e := range t.exprs {
		if e.key != pt.p.ZoneKey || e.op != "In" || len(e.values) == 0 {
			continue
		}
		all := true
		for _, v := range e.values {
			all = all && pt.dataZones[v]
		}
		if all {
			return true
		}
	}
	return false
}

// sharedClaims returns the PersistentVolumeClaims the pods mount that are
// not known to be ReadWriteMany or ReadOnlyMany, each with what is known
// about it.
func (pt *patcher) sharedClaims(w *workload) []string {
	var out []string
	for _, name := range w.pod.claims {
		key := name
		if w.obj.namespace != "" {
			key = w.obj.namespace + "/" + name
		}
		c := pt.lookup[key]
		switch {
		case c == nil:
			out = append(out, name+" (not in the input)")
		case c.many():
			continue
		case len(c.modes) == 0:
			out = append(out, name+" (no access mode)")
		default:
			out = append(out, name+" ("+strings.Join(c.modes, ", ")+")")
		}
	}
	return out
}

// want is the number of replicas the workload is raised to: the policy
// minimum, or its AnnotationMinReplicas when larger.
func (w *workload) want(p Policy) int {
	return max(p.MinReplicas, w.obj.minRepl)
}

// held reports whether the patcher must leave the workload's replicas (and
// its autoscalers' minReplicas) as they are: a StatefulSet that has not
// opted in with AnnotationMinReplicas. Its application may not replicate
// itself, and two copies of a single-instance database diverge.
func (w *workload) held() bool {
	return w.obj.kind == "StatefulSet" && w.obj.minRepl == 0
}

// replicate raises the replicas, unless an autoscaler owns them, the pods
// share a single-writer claim or the workload is held, and reports a held
// StatefulSet below the minimum and a workload left at one replica.
func (pt *patcher) replicate(w *workload, hpas []*hpa, fix bool, shared []string) {
	o := w.obj
	want := w.want(pt.p)
	raise := fix && !w.held()
	effective := w.replicas
	switch {
	case len(hpas) > 0:
		effective = 0
		for _, h := range hpas {
			effective = max(effective, h.minAfter(pt.p))
		}
	case w.replicasSet && w.replicas == 0:
		pt.report(o, ruleScaledToZero, false, "has replicas: 0 (switched off)", "has replicas: 0; left alone")
	case w.replicas < want && raise && len(shared) == 0:
		problem := belowMinimum("replicas", w.replicas, w.replicasSet, want)
		was := fmt.Sprint(w.replicas)
		if !w.replicasSet {
			was = "unset (1)"
		}
		if w.replicasNode != nil {
			setInt(w.replicasNode, want)
		} else {
			w.spec.Content = append([]*yaml.Node{newStr("replicas"), newInt(want)}, w.spec.Content...)
		}
		effective = want
		pt.report(o, ruleReplicas, true, problem, fmt.Sprintf("replicas %s raised to %d", was, want))
	}
	if len(shared) > 0 {
		msg := fmt.Sprintf("the pods mount PersistentVolumeClaim %s, which cannot be attached in both regions",
			strings.Join(shared, ", "))
		problem := msg
		if len(hpas) == 0 && raise && w.replicas > 0 && w.replicas < want {
			problem += "; " + belowMinimum("replicas", w.replicas, w.replicasSet, want) +
				" and cannot be raised automatically with such a claim"
			msg += fmt.Sprintf("; replicas not raised to %d", want)
		}
		pt.report(o, ruleSharedClaim, false, problem, msg)
	}
	if fix && w.held() && effective > 0 && effective < want {
		pt.notRaised(w, len(hpas) > 0, effective, want)
		return
	}
	if effective == 1 {
		why := ""
		switch {
		case o.skip:
			why = " (opted out, so not raised)"
		case len(shared) > 0:
			why = " (not raised: shared claim)"
		case len(hpas) > 0:
			why = " (the HorizontalPodAutoscaler's minReplicas)"
		}
		pt.oneReplica(o, why)
	}
}

// notRaised reports a StatefulSet that runs n replicas, fewer than want,
// and is not raised for want of the AnnotationMinReplicas opt-in: what a
// region loss does to it and how to opt in. autoscaled says that n is its
// autoscalers' minReplicas.
func (pt *patcher) notRaised(w *workload, autoscaled bool, n, want int) {
	below := belowMinimum("replicas", n, w.replicasSet, want)
	if autoscaled {
		below = belowMinimum("the HorizontalPodAutoscaler's minReplicas", n, true, want)
	}
	loss := "its pod on the lost node hangs Terminating until the region is fenced with the " +
		"node.kubernetes.io/out-of-service taint, then the StatefulSet recreates it in the surviving region " +
		"with its replicated RBD volume"
	if n > 1 {
		loss = "its pods on the lost nodes hang Terminating until the region is fenced with the " +
			"node.kubernetes.io/out-of-service taint, then the StatefulSet recreates them in the surviving region " +
			"with their replicated RBD volumes"
	}
	pt.risk(w.obj, ruleStatefulSetNotRaised,
		"%s, and a StatefulSet is raised only when annotated %s: on region loss %s; "+
			"if the application replicates itself, annotate it %s: \"%d\"",
		below, AnnotationMinReplicas, loss, AnnotationMinReplicas, want)
}

// oneReplica reports a workload that runs one replica, as SPREAD010 for a
// StatefulSet and SPREAD011 otherwise; why qualifies "runs one replica".
func (pt *patcher) oneReplica(o *object, why string) {
	ru, effect := ruleOneReplica, "an outage on every region loss"
	if o.kind == "StatefulSet" {
		ru, effect = ruleStatefulSetOneReplica, "its pod is not recreated while its region is lost"
	}
	msg := "runs one replica" + why + ": " + effect
	pt.report(o, ru, false, msg, msg)
}

// podRisks reports what the pod spec does that the patcher cannot fix.
// zoneSpread says whether the pods have a DoNotSchedule zone spread.
func (pt *patcher) podRisks(w *workload, zoneSpread bool) {
	o, pi := w.obj, &w.pod
	if msg := pt.pinned(pi); msg != "" {
		pt.report(o, rulePinned, false, msg, msg)
	}
	if w.class == classDaemon {
		return
	}
	if len(pi.hostPaths) > 0 {
		pt.risk(o, ruleHostPath, "mounts hostPath volume %s; its data stays on one node",
			strings.Join(pi.hostPaths, ", "))
	}
	if zoneSpread {
		for _, taint := range []string{"node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"} {
			if i := tolerating(pi.tolerations, taint, ""); i >= 0 {
				pt.risk(o, ruleToleratesUnreachable,
					"toleration %d tolerates %s:NoSchedule, so a lost region's nodes still count in the "+
						"zone spread and block fail-over", i, taint)
				break
			}
		}
	}
	if pt.p.ArbiterTaintKey != "" && !pt.keptInData(w) {
		if i := tolerating(pi.tolerations, pt.p.ArbiterTaintKey, "true"); i >= 0 {
			pt.risk(o, ruleToleratesArbiter,
				"toleration %d tolerates the arbiter taint %s and no node affinity keeps the pods in %s",
				i, pt.p.ArbiterTaintKey, strings.Join(pt.p.DataZones, ", "))
		}
	}
}

// keptInData reports whether the pods can only run in data zones: patched
// workloads, and pods whose nodeSelector or every required term says so.
func (pt *patcher) keptInData(w *workload) bool {
	if w.class == classReplicated && !w.obj.skip {
		return true
	}
	if z, ok := w.pod.nodeSelector[pt.p.ZoneKey]; ok && pt.dataZones[z] {
		return true
	}
	if len(w.pod.terms) == 0 {
		return false
	}
	for _, t := range w.pod.terms {
		if !pt.keepsToData(t) {
			return false
		}
	}
	return true
}

// tolerating returns the index of the first toleration that tolerates the
// NoSchedule taint key=value, or -1.
func tolerating(ts []toleration, key, value string) int {
	for i, t := range ts {
		if t.effect != "" && t.effect != "NoSchedule" {
			continue
		}
		switch {
		case t.key == "" && t.op == "Exists",
			t.key == key && t.op == "Exists",
			t.key == key && (t.op == "" || t.op == "Equal") && t.value == value:
			return i
		}
	}
	return -1
}

// pinned says how the pod spec pins its pods to one data zone or one node,
// or returns "".
func (pt *patcher) pinned(pi *podInfo) string {
	if pi.nodeName != "" {
		return fmt.Sprintf("nodeName pins the pods to node %s", pi.nodeName)
	}
	if h, ok := pi.nodeSelector[LabelHostname]; ok {
		return fmt.Sprintf("nodeSelector %s: %s pins the pods to one node", LabelHostname, h)
	}
	allowed := make(map[string]bool, len(pt.dataZones))
	for z := range pt.dataZones {
		allowed[z] = true
	}
	source := ""
	if z, ok := pi.nodeSelector[pt.p.ZoneKey]; ok {
		for a := range allowed {
			allowed[a] = a == z
		}
		source = fmt.Sprintf("nodeSelector %s: %s", pt.p.ZoneKey, z)
	}
	if len(pi.terms) > 0 {
		union := map[string]bool{}
		hosts := map[string]bool{}
		allHosts := true
		for _, t := range pi.terms {
			for z := range pt.termZones(t) {
				union[z] = true
			}
			pinnedHost := false
			for _, e := range t.exprs {
				if e.key == LabelHostname && e.op == "In" {
					pinnedHost = true
					for _, v := range e.values {
						hosts[v] = true
					}
				}
			}
			allHosts = allHosts && pinnedHost
		}
		if allHosts && len(hosts) <= 1 {
			return "the required node affinity pins the pods to one node"
		}
		narrowed := false
		for a, ok := range allowed {
			if ok && !union[a] {
				allowed[a] = false
				narrowed = true
			}
		}
		if narrowed {
			source = strings.TrimPrefix(source+" and the required node affinity", " and ")
		}
	}
	if source == "" {
		return ""
	}
	var left []string
	for _, z := range pt.p.DataZones {
		if allowed[z] {
			left = append(left, z)
		}
	}
	switch len(left) {
	case 0:
		return fmt.Sprintf("%s allows none of the data regions %s", source, strings.Join(pt.p.DataZones, ", "))
	case 1:
		return fmt.Sprintf("%s allows region %s only", source, left[0])
	}
	return ""
}

// termZones returns the data zones a node selector term allows.
func (pt *patcher) termZones(t term) map[string]bool {
	zones := make(map[string]bool, len(pt.dataZones))
	for z := range pt.dataZones {
		zones[z] = true
	}
	for _, e := range t.exprs {
		if e.key != pt.p.ZoneKey {
			continue
		}
		switch e.op {
		case "In":
			for z := range zones {
				zones[z] = zones[z] && containsStr(e.values, z)
			}
		case "NotIn":
			for _, v := range e.values {
				delete(zones, v)
			}
		case "DoesNotExist":
			clear(zones)
		}
	}
	for z, ok := range zones {
		if !ok {
			delete(zones, z)
		}
	}
	return zones
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

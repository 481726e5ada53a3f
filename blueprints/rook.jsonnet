// Rook and Ceph in stretch mode: the operator (a Flux HelmRelease), the
// Ceph CSI drivers (a second HelmRelease, Rook v1.20 and newer), the
// CephCluster with five mons placed 2/2/1 and the arbiter, the builtin .mgr
// pool, the block pools (size 4, two replicas per zone) and their
// StorageClasses.
local s = import 'stretch.libsonnet';

function(model)
  local st = model.storage;
  local ns = st.namespace;
  local zone = model.labels.zone;
  local data = model.dataRegions;
  local tol = model.tolerations;
  // The stretch rules' numbers (mons, pool size, copies per zone, the
  // builtin pool's name) come from the rule book, through the model.
  local stretch = model.stretch;
  // Rook names the CRUSH bucket type after the label's last path segment.
  local crushType = std.split(zone, '/')[std.length(std.split(zone, '/')) - 1];
  local nodesByName = { [n.name]: n for n in model.nodes };
  local replicated = {
    size: stretch.poolSize,
    replicasPerFailureDomain: stretch.replicasPerZone,
    subFailureDomain: 'host',
    requireSafeReplicaSize: true,
  };
  // A HelmRepository's spec: the upstream address or the topology's mirror
  // (spec.gitops.chartMirrors); an OCI mirror needs type oci.
  local repoSpec(repo) = { interval: '1h', url: repo.url } +
                         (if std.objectHas(repo, 'type') then { type: repo.type } else {});
  local csiSecret(kind, name) = {
    ['csi.storage.k8s.io/' + kind + '-secret-name']: name,
    ['csi.storage.k8s.io/' + kind + '-secret-namespace']: ns,
  };
  {
    // Namespace, CephCluster and pools are never pruned (s.keep): renaming
    // a file, a stage or a pool must not delete the cluster's data.
    'storage/rook/operator/namespace.yaml': s.object('v1', 'Namespace', ns) + s.keep + {
      metadata+: {
        // Ceph daemons need host access: Pod Security must allow them.
        labels: { 'pod-security.kubernetes.io/enforce': 'privileged' },
      },
    },

    'storage/rook/operator/helmrepository.yaml':
      s.object('source.toolkit.fluxcd.io/v1', 'HelmRepository', st.rookRepository.name, ns) {
        spec: repoSpec(st.rookRepository),
      },

    'storage/rook/operator/helmrelease.yaml':
      s.object('helm.toolkit.fluxcd.io/v2', 'HelmRelease', 'rook-ceph', ns) {
        spec: {
          interval: '30m',
          chart: {
            spec: {
              chart: 'rook-ceph',
              version: st.rookVersion,
              sourceRef: { kind: 'HelmRepository', name: st.rookRepository.name },
            },
          },
          install: { crds: 'CreateReplace', remediation: { retries: 3 } },
          upgrade: { crds: 'CreateReplace', remediation: { retries: 3 } },
          values: { crds: { enabled: true } },
        },
      },
  } + (if st.csiDrivers == null then {} else {
    // Since Rook v1.20 the rook-ceph chart installs only the Ceph-CSI
    // operator; the drivers are this chart, installed after it with the
    // values Rook ships (deploy/charts/ceph-csi-drivers/values.yaml), every
    // "rook-ceph" in them being the operator namespace.
    local csi = st.csiDrivers,
    'storage/rook/operator/helmrepository-ceph-csi-operator.yaml':
      s.object('source.toolkit.fluxcd.io/v1', 'HelmRepository', csi.repository.name, ns) {
        spec: repoSpec(csi.repository),
      },

    'storage/rook/operator/helmrelease-ceph-csi-drivers.yaml':
      s.object('helm.toolkit.fluxcd.io/v2', 'HelmRelease', 'ceph-csi-drivers', ns) {
        spec: {
          interval: '30m',
          // The operator's chart installs the CSI operator and its CRDs.
          dependsOn: [{ name: 'rook-ceph' }],
          chart: {
            spec: {
              chart: 'ceph-csi-drivers',
              version: csi.chartVersion,
              sourceRef: { kind: 'HelmRepository', name: csi.repository.name },
            },
          },
          install: { remediation: { retries: 3 } },
          upgrade: { remediation: { retries: 3 } },
          values: {
            operatorConfig: {
              namespace: ns,
              driverSpecDefaults: {
                imageSet: { name: 'rook-csi-operator-image-set-configmap' },
                nodePlugin: { priorityClassName: 'system-node-critical' },
                controllerPlugin: { priorityClassName: 'system-cluster-critical' },
              },
            },
            // A driver runs only when a StorageClass of the bundle uses it:
            // the bundle's StorageClasses are all RBD.
            drivers: {
              rbd: { enabled: true, name: csi.rbdDriver },
              cephfs: { enabled: false, name: csi.cephfsDriver },
              nfs: { enabled: false, name: csi.nfsDriver },
              nvmeof: { enabled: false, name: csi.nvmeofDriver },
            },
          },
        },
      },
  }) + {
    'storage/rook/cluster/cephcluster.yaml': s.object('ceph.rook.io/v1', 'CephCluster', ns, ns) + s.keep + {
      spec: {
        dataDirHostPath: st.dataDirHostPath,
        cephVersion: { image: st.cephImage, allowUnsupported: false },
        mon: {
          count: stretch.monCount,
          allowMultiplePerNode: false,
          stretchCluster: {
            failureDomainLabel: zone,
            subFailureDomain: 'host',
            zones: [{ name: model.arbiterRegion, arbiter: true }] + [{ name: r } for r in data],
          },
        },
        mgr: { count: 2 },
        dashboard: { enabled: true, ssl: true },
        storage: {
          useAllNodes: false,
          useAllDevices: false,
          nodes: [
            { name: n, devices: [{ name: d } for d in nodesByName[n].devices] }
            for n in st.storageNodes
          ],
        },
        placement: {
          // The arbiter mon uses this alone (not merged with "mon" or "all").
          arbiter: { tolerations: s.tolerations(tol.arbiter + tol.controlPlane) },
          mon: { tolerations: s.tolerations(tol.storage + tol.controlPlane) },
          mgr: {
            nodeAffinity: s.requireIn({ [zone]: data }),
            tolerations: s.tolerations(tol.storage + tol.controlPlane),
          },
          osd: {
            nodeAffinity: s.requireIn({ [zone]: data, [model.labels.storage]: ['true'] }),
            tolerations: s.tolerations(tol.storage),
          },
          prepareosd: {
            nodeAffinity: s.requireIn({ [zone]: data, [model.labels.storage]: ['true'] }),
            tolerations: s.tolerations(tol.storage),
          },
        },
        priorityClassNames: {
          mon: 'system-node-critical',
          osd: 'system-node-critical',
          mgr: 'system-cluster-critical',
        },
        disruptionManagement: { managePodBudgets: true },
      },
    },

    // Without it Ceph creates .mgr with size 3, which stretch mode refuses.
    'storage/rook/cluster/pool-builtin-mgr.yaml': s.object('ceph.rook.io/v1', 'CephBlockPool', 'builtin-mgr', ns) + s.keep + {
      spec: { name: stretch.mgrPool, failureDomain: crushType, replicated: replicated },
    },
  } + {
    ['storage/rook/cluster/pool-' + p.name + '.yaml']: s.object('ceph.rook.io/v1', 'CephBlockPool', p.name, ns) + s.keep + {
      spec: { failureDomain: crushType, replicated: replicated },
    }
    for p in st.pools
  } + {
    ['storage/rook/cluster/storageclass-' + p.storageClass + '.yaml']: s.object('storage.k8s.io/v1', 'StorageClass', p.storageClass) {
      metadata+: if p.default then {
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      } else {},
      provisioner: st.provisioner,
      parameters: {
        clusterID: ns,
        pool: p.name,
        imageFormat: '2',
        imageFeatures: 'layering',
        'csi.storage.k8s.io/fstype': 'ext4',
      } + csiSecret('provisioner', 'rook-csi-rbd-provisioner')
      + csiSecret('controller-expand', 'rook-csi-rbd-provisioner')
      + csiSecret('controller-publish', 'rook-csi-rbd-provisioner')
      + csiSecret('node-stage', 'rook-csi-rbd-node'),
      allowVolumeExpansion: true,
      reclaimPolicy: p.reclaimPolicy,
      volumeBindingMode: 'Immediate',
    }
    for p in st.pools
  }

// A misspelt field: strict decoding must catch it.
{
  calico+: {
    'network/calico/felixconfiguration.yaml'+: {
      spec+: { wireguardEnable: true },
    },
  },
}

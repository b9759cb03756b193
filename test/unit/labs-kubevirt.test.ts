// The KubeVirt mapping on paper: its manifests are checked against KubeVirt's and CDI's own
// OpenAPI models. A manifest the models read back unchanged has no misspelled or unknown field
// (FromJSON keeps only the fields it knows), and instanceOf checks the required ones.
import { V1beta1DataVolumeFromJSON, V1beta1DataVolumeToJSON } from '@kubevirt-ui-ext/kubevirt-api/containerized-data-importer';
import { V1VirtualMachineInstanceFromJSON, V1VirtualMachineInstanceToJSON, instanceOfV1VirtualMachineInstance } from '@kubevirt-ui-ext/kubevirt-api/kubevirt';
import { describe, expect, it } from 'vitest';
import { kubevirtCalls, labManifests, type KubevirtOptions } from '../../src/labs/kubevirt.ts';

const o: KubevirtOptions = { namespace: 'class-a', basePvc: 'workshop-base', kernelImage: 'registry.example/workshop-kernel:1', cmdline: 'console=ttyS0 root=/dev/vda rw', diskSize: '8Gi' };
const spec = { memoryMiB: 1024, cpus: 1 };
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('hosted labs on KubeVirt (on paper)', () => {
  it('makes a VMI that KubeVirt’s model reads back unchanged: no NIC, vsock for the agent, a kernel boot', () => {
    const { vmi } = labManifests('lab-0a1b', spec, o);
    expect(instanceOfV1VirtualMachineInstance(vmi)).toBe(true);
    expect(plain(V1VirtualMachineInstanceToJSON(V1VirtualMachineInstanceFromJSON(plain(vmi))))).toEqual(plain(vmi));
    expect(vmi.spec.domain.devices).toMatchObject({ autoattachPodInterface: false, interfaces: [], autoattachVSOCK: true });
    expect(vmi.spec.networks).toEqual([]);
  });

  it('makes a DataVolume that clones the base PVC, read back unchanged by CDI’s model', () => {
    const { dataVolume } = labManifests('lab-0a1b', spec, { ...o, storageClass: 'thin' });
    expect(plain(V1beta1DataVolumeToJSON(V1beta1DataVolumeFromJSON(plain(dataVolume))))).toEqual(plain(dataVolume));
    expect(dataVolume.spec?.source?.pvc).toEqual({ namespace: 'class-a', name: 'workshop-base' });
  });

  it('a misspelled field would not survive the round trip (the check can fail)', () => {
    const { vmi } = labManifests('lab-0a1b', spec, o);
    const typo = plain(vmi) as { spec: { domain: { devices: Record<string, unknown> } } };
    typo.spec.domain.devices['autoattachVsock'] = true;
    expect(plain(V1VirtualMachineInstanceToJSON(V1VirtualMachineInstanceFromJSON(typo)))).not.toEqual(typo);
  });

  it('maps each driver method to API calls: stop deletes the VMI and keeps the disk', () => {
    expect(kubevirtCalls('stop', 'lab-0a1b', spec, o).map((c) => `${c.method} ${c.path}`)).toEqual(['DELETE /apis/kubevirt.io/v1/namespaces/class-a/virtualmachineinstances/lab-0a1b']);
    expect(kubevirtCalls('destroy', 'lab-0a1b', spec, o).map((c) => c.path)).toContain('/apis/cdi.kubevirt.io/v1beta1/namespaces/class-a/datavolumes/lab-0a1b-disk');
    expect(kubevirtCalls('console', 'lab-0a1b', spec, o)[0]?.path).toBe('/apis/subresources.kubevirt.io/v1/namespaces/class-a/virtualmachineinstances/lab-0a1b/vsock?port=1024&tls=false');
    expect(() => labManifests('../x', spec, o)).toThrow(/bad VM id/);
  });
});

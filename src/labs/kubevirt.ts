// The driver interface on KubeVirt, on paper (docs/hosted-labs.md): the manifests of one learner's
// lab, typed by KubeVirt's and CDI's own OpenAPI models (@kubevirt-ui-ext/kubevirt-api, types only),
// and the API calls each driver method becomes. Nothing here talks to a cluster; there is no
// scheduler of ours: Kubernetes places the VMI's pod.
import type { V1beta1DataVolume } from '@kubevirt-ui-ext/kubevirt-api/containerized-data-importer';
import type { V1VirtualMachineInstance } from '@kubevirt-ui-ext/kubevirt-api/kubevirt';
import { checkVmId, type VmSpec } from './driver.ts';

export interface KubevirtOptions {
  namespace: string;
  /** the PVC holding the base image (imported once from the builder's qcow2 by a CDI upload) */
  basePvc: string;
  /** a container image with the image's kernel and initrd: the disk has no boot loader */
  kernelImage: string;
  /** the image's kernel command line (image.json's cmdline) */
  cmdline: string;
  diskSize: string;
  storageClass?: string;
}

/** The vsock port the agent listens on in a KubeVirt guest (a virtio-serial port is qemu's only). */
export const AGENT_VSOCK_PORT = 1024;
export const LAB_LABEL = 'workshop.dev/lab';

/** Pure: the DataVolume (a clone of the base PVC: copy-on-write where the storage can) and the VMI. */
export function labManifests(id: string, spec: VmSpec, o: KubevirtOptions): { dataVolume: V1beta1DataVolume; vmi: V1VirtualMachineInstance } {
  checkVmId(id);
  const disk = `${id}-disk`;
  const labels = { [LAB_LABEL]: id };
  const dataVolume: V1beta1DataVolume = {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'DataVolume',
    metadata: { name: disk, namespace: o.namespace, labels },
    spec: {
      source: { pvc: { namespace: o.namespace, name: o.basePvc } },
      storage: {
        resources: { requests: { storage: o.diskSize } },
        ...(o.storageClass ? { storageClassName: o.storageClass } : {}),
      },
    },
  };
  const vmi: V1VirtualMachineInstance = {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: id, namespace: o.namespace, labels },
    spec: {
      domain: {
        cpu: { cores: spec.cpus },
        memory: { guest: `${spec.memoryMiB}Mi` },
        resources: { requests: { memory: `${spec.memoryMiB}Mi` } },
        firmware: { kernelBoot: { kernelArgs: o.cmdline, container: { image: o.kernelImage, kernelPath: '/boot/vmlinuz', initrdPath: '/boot/initrd.img' } } },
        devices: {
          disks: [{ name: 'root', disk: { bus: 'virtio' } }],
          // no network at all: no pod interface, no NIC; the agent talks over vsock
          autoattachPodInterface: false,
          interfaces: [],
          autoattachVSOCK: true,
          autoattachGraphicsDevice: false,
          autoattachSerialConsole: true,
          autoattachMemBalloon: true,
        },
      },
      networks: [],
      volumes: [{ name: 'root', dataVolume: { name: disk } }],
      terminationGracePeriodSeconds: 60,
    },
  };
  return { dataVolume, vmi };
}

/** One Kubernetes API call. */
export interface ApiCall {
  method: 'GET' | 'POST' | 'DELETE' | 'WEBSOCKET';
  path: string;
  body?: unknown;
}

const vmis = (ns: string) => `/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances`;
const dvs = (ns: string) => `/apis/cdi.kubevirt.io/v1beta1/namespaces/${ns}/datavolumes`;

/**
 * Pure: the API calls that each method of the driver interface (driver.ts) becomes. A VMI is a
 * running VM, so start creates it and stop deletes it; the disk (the DataVolume's PVC) stays.
 */
export function kubevirtCalls(method: 'create' | 'start' | 'stop' | 'destroy' | 'console' | 'status' | 'list', id: string, spec: VmSpec, o: KubevirtOptions): ApiCall[] {
  const ns = o.namespace;
  const m = labManifests(id, spec, o);
  switch (method) {
    case 'create':
      return [{ method: 'POST', path: dvs(ns), body: m.dataVolume }];
    case 'start':
      return [{ method: 'POST', path: vmis(ns), body: m.vmi }];
    case 'stop':
      return [{ method: 'DELETE', path: `${vmis(ns)}/${id}`, body: { gracePeriodSeconds: 60 } }];
    case 'destroy':
      return [
        { method: 'DELETE', path: `${vmis(ns)}/${id}`, body: { gracePeriodSeconds: 0 } },
        { method: 'DELETE', path: `${dvs(ns)}/${id}-disk` },
      ];
    case 'console':
      return [{ method: 'WEBSOCKET', path: `/apis/subresources.kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances/${id}/vsock?port=${AGENT_VSOCK_PORT}&tls=false` }];
    case 'status':
      return [
        { method: 'GET', path: `${vmis(ns)}/${id}` },
        { method: 'GET', path: `${dvs(ns)}/${id}-disk` },
      ];
    case 'list':
      return [{ method: 'GET', path: `${dvs(ns)}?labelSelector=${encodeURIComponent(LAB_LABEL)}` }];
  }
}

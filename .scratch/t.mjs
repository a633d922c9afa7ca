let t=Date.now();
const { xdsProtos } = await import('../dist/src/xds/protos.js');
xdsProtos(); console.log('protos', Date.now()-t); t=Date.now();
const { certificateServiceDefinition } = await import('../dist/src/controlplane/ca/certificate-service.js');
certificateServiceDefinition(); console.log('certsvc', Date.now()-t);

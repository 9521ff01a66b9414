// Parameters of the second deployment (the Event Grid subscriptions). Every value comes from an
// environment variable named like the main.bicep output it is (export them from the first
// deployment's outputs, see infra/README.md); the blobs_extension key from BLOBS_EXTENSION_KEY,
// so it is never on a command line or in a file:
//   az deployment group create -g <rg> --parameters infra/events.bicepparam
using './events.bicep'

param functionAppName = readEnvironmentVariable('functionAppName')
param storageAccountName = readEnvironmentVariable('storageAccountName')
param storageTopicName = readEnvironmentVariable('storageTopicName')
param dataContainer = readEnvironmentVariable('dataContainer')
param deadLetterContainer = readEnvironmentVariable('deadLetterContainer')
param mlWorkspaceResourceGroup = readEnvironmentVariable('mlWorkspaceResourceGroup')
param mlSystemTopicName = readEnvironmentVariable('mlSystemTopicName')
param modelName = readEnvironmentVariable('modelName')
param experimentName = readEnvironmentVariable('experimentName')
param blobsExtensionKey = readEnvironmentVariable('BLOBS_EXTENSION_KEY')

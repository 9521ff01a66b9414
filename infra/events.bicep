// The Event Grid subscriptions: the second deployment, after the code is published and the host
// has created its blobs_extension system key (see infra/README.md, "Two deployments"). Its
// parameters are main.bicep's outputs (events.bicepparam reads them from environment variables
// of the same names) and the key, a secure parameter that is never logged or output.
targetScope = 'resourceGroup'

@description('The Function App (main.bicep output functionAppName).')
param functionAppName string

@description('The app\'s storage account (output storageAccountName): data container and dead letters.')
param storageAccountName string

@description('Event Grid system topic of that storage account (output storageTopicName).')
param storageTopicName string

@description('Blob container data engineers drop CSV files into (output dataContainer).')
param dataContainer string

@description('Container of undeliverable events (output deadLetterContainer).')
param deadLetterContainer string

@description('Resource group of the Azure ML workspace (output mlWorkspaceResourceGroup).')
param mlWorkspaceResourceGroup string

@description('Event Grid system topic of the workspace (output mlSystemTopicName).')
param mlSystemTopicName string

@description('Registered model the app acts on (output modelName): the ModelRegistered subject filter.')
param modelName string

@description('Experiment of the training jobs (output experimentName): the run events filter.')
param experimentName string

@secure()
@description('The host\'s blobs_extension system key (az functionapp keys list --query systemKeys.blobs_extension).')
param blobsExtensionKey string

@description('Event Grid delivery attempts per event before it is dead-lettered (1-30).')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Minutes Event Grid keeps retrying an event before it is dead-lettered (1-1440).')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

var deadLetterStorageAccountId = resourceId('Microsoft.Storage/storageAccounts', storageAccountName)

module dataBlobCreated 'modules/blob-events.bicep' = {
  name: 'data-blob-events'
  params: {
    systemTopicName: storageTopicName
    functionAppName: functionAppName
    dataContainer: dataContainer
    blobsExtensionKey: blobsExtensionKey
    deadLetterStorageAccountId: deadLetterStorageAccountId
    deadLetterContainer: deadLetterContainer
    maxDeliveryAttempts: maxDeliveryAttempts
    eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
  }
}

module mlEvents 'modules/ml-events.bicep' = {
  name: 'ml-events'
  scope: resourceGroup(mlWorkspaceResourceGroup)
  params: {
    systemTopicName: mlSystemTopicName
    functionAppId: resourceId('Microsoft.Web/sites', functionAppName)
    modelName: modelName
    experimentName: experimentName
    deadLetterStorageAccountId: deadLetterStorageAccountId
    deadLetterContainer: deadLetterContainer
    maxDeliveryAttempts: maxDeliveryAttempts
    eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
  }
}

output subscriptions array = concat([ dataBlobCreated.outputs.subscriptionName ], mlEvents.outputs.subscriptionNames)

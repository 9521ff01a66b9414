// Storage BlobCreated in the data container → the Event Grid-sourced blob trigger on_data_blob.
// Deployed by events.bicep once the code runs: the webhook is authenticated with the host's
// blobs_extension system key, which the host creates when it first starts with the blob trigger;
// the deploy workflow waits for it and passes it here as a secure parameter.
param systemTopicName string
param functionAppName string
param dataContainer string

@secure()
@description('The host\'s blobs_extension system key (az functionapp keys list ... --query systemKeys.blobs_extension).')
param blobsExtensionKey string

param deadLetterStorageAccountId string
param deadLetterContainer string
param maxDeliveryAttempts int
param eventTimeToLiveInMinutes int

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource storageTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

var dataBlobs = '/blobServices/default/containers/${dataContainer}/blobs/'

resource dataBlobCreated 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: storageTopic
  name: 'data-blob-created'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${functionApp.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.on_data_blob&code=${blobsExtensionKey}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [ 'Microsoft.Storage.BlobCreated' ]
      subjectBeginsWith: dataBlobs
      // The service's own immutable copies of accepted files (the app skips them anyway).
      advancedFilters: [
        {
          operatorType: 'StringNotBeginsWith'
          key: 'subject'
          values: [ '${dataBlobs}_accepted/' ]
        }
      ]
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned' // the system topic's identity: Storage Blob Data Contributor on the container
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterStorageAccountId
          blobContainerName: deadLetterContainer
        }
      }
    }
  }
}

output subscriptionName string = dataBlobCreated.name

// In the Azure ML workspace's resource group: the subscriptions of its system topic that deliver
// ModelRegistered (this model) and run status events (this experiment's runs only) to the app's
// Event Grid functions. Deployed by events.bicep once the functions exist.
param systemTopicName string
param functionAppId string
param modelName string
param experimentName string
param deadLetterStorageAccountId string
param deadLetterContainer string
param maxDeliveryAttempts int
param eventTimeToLiveInMinutes int

resource mlTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

// Subject of ModelRegistered: models/<name>:<version>.
resource modelRegistered 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: mlTopic
  name: 'model-registered'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/on_model_registered'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [ 'Microsoft.MachineLearningServices.ModelRegistered' ]
      subjectBeginsWith: 'models/${modelName}:'
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

// Run events carry data.experimentName: only the training experiment's runs invoke the app.
resource jobStatusChanged 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: mlTopic
  name: 'job-status-changed'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/on_job_status_changed'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.MachineLearningServices.RunCompleted'
        'Microsoft.MachineLearningServices.RunStatusChanged'
      ]
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.experimentName'
          values: [ experimentName ]
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

output subscriptionNames array = [ modelRegistered.name, jobStatusChanged.name ]

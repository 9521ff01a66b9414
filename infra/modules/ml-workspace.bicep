// In the Azure ML workspace's resource group: the app's role on the workspace, the workspace's Event Grid system topic and the
// subscriptions that deliver ModelRegistered and run status events to the app's functions.
param workspaceName string
param systemTopicName string
param functionAppId string
param principalId string
param modelName string
param deployEventSubscriptions bool
param tags object = {}

var azureMLDataScientist = 'f6c7c914-8db3-469d-8ca1-694a8f32e121'

resource workspace 'Microsoft.MachineLearningServices/workspaces@2024-04-01' existing = {
  name: workspaceName
}

// Submit jobs, read models and runs, register data assets, create/update/delete online
// deployments and set endpoint traffic (everything but computes and the workspace itself).
resource dataScientist 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, functionAppId, azureMLDataScientist)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', azureMLDataScientist)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource mlTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: systemTopicName
  location: workspace.location
  tags: tags
  properties: {
    source: workspace.id
    topicType: 'Microsoft.MachineLearningServices.Workspaces'
  }
}

// Subject of ModelRegistered: models/<name>:<version>.
resource modelRegistered 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = if (deployEventSubscriptions) {
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
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

resource jobStatusChanged 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = if (deployEventSubscriptions) {
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
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output systemTopicName string = mlTopic.name

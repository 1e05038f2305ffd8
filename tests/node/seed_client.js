const ws = new WebSocket('ws://localhost:3002/ws');

ws.on('message', (data) => {
  const event = JSON.parse(data);
  console.log('任务事件:', event);
  
  switch(event.type) {
    case 'task_started':
      console.log(`任务 ${event.taskId} 已开始`);
      break;
    case 'task_progress':
      console.log(`任务 ${event.taskId} 进度: ${event.progress}%`);
      break;
    case 'task_completed':
      console.log(`任务 ${event.taskId} 已完成`);
      break;
    case 'task_failed':
      console.log(`任务 ${event.taskId} 失败: ${event.error}`);
      break;
  }
});
